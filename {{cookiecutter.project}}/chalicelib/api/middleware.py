"""HTTP middleware: a correlation id on every request, its logs and its response; its metrics flushed once."""

import uuid
from collections.abc import Callable

from chalice.app import Blueprint, Request, Response

from chalicelib.observability import correlated, logger, metrics_flushed

CORRELATION_HEADER = "X-Correlation-Id"

middleware = Blueprint(__name__)


@middleware.middleware("http")
def correlate(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Take the caller's correlation id (or the API Gateway request id) and echo it back."""
    correlation_id = request.headers.get(CORRELATION_HEADER) or request.context.get("requestId") or str(uuid.uuid4())
    # Only for this request: a warm function (or devstack's shared process) handles other work next.
    # The request's business metrics (recorded by services) go out as one EMF line at its end.
    with (
        correlated(correlation_id, method=request.method, path=request.path, params=request.uri_params or {}),
        metrics_flushed(),
    ):
        response = get_response(request)
        response.headers[CORRELATION_HEADER] = correlation_id
        logger.info("request handled", extra={"status": response.status_code})
    return response
