"""The one middleware every function runs in, API and events alike: tracing, metrics, logs with a correlation id.

The correlation id comes from where each trigger carries it (a JMESPath into the raw event);
queue, stream and saga handlers narrow it per record where a batch mixes requests.
"""

from collections.abc import Callable
from typing import Any

from chalice.app import (
    Blueprint,
    CloudWatchEvent,
    DynamoDBEvent,
    LambdaFunctionEvent,
    Request,
    Response,
    SQSEvent,
)

from chalicelib.observability import correlated, correlation_id, instrumented, logger

CORRELATION_HEADER = "X-Correlation-Id"

# Where each trigger kind carries the correlation id; the function's request id when none does.
CORRELATION_PATHS: dict[type, str] = {
    # The caller's header (as sent, or lowercased by an HTTP/2 client), else API Gateway's request id.
    Request: f'headers."{CORRELATION_HEADER}" || headers."{CORRELATION_HEADER.lower()}" || requestContext.requestId',
    # The first record's message attribute, else its message id (each record is re-tagged from its body).
    SQSEvent: "Records[0].messageAttributes.correlation_id.stringValue || Records[0].messageId",
    # The id the changed item keeps from the request that wrote it, else the record's event id.
    DynamoDBEvent: "Records[0].dynamodb.NewImage.correlation_id.S || Records[0].eventID",
    # A Step Functions task's input carries the request's id (or at least the order's).
    LambdaFunctionEvent: "correlation_id || order_id",
    CloudWatchEvent: "id",
}

middleware = Blueprint(__name__)


@middleware.middleware("all")
def observe(event: Any, get_response: Callable[[Any], Any]) -> Any:
    """Run the invocation instrumented; an HTTP answer also echoes the correlation id back."""
    raw, context = raw_event(event)
    path = next((path for kind, path in CORRELATION_PATHS.items() if isinstance(event, kind)), None)
    if isinstance(event, Request):
        return instrumented(raw, context, path, lambda: _answer(event, get_response))
    return instrumented(raw, context, path, lambda: get_response(event))


def raw_event(event: Any) -> tuple[dict[str, Any], Any]:
    """The Lambda event as it arrived and the Lambda context, for any Chalice event type."""
    if isinstance(event, Request):
        return event.to_original_event(), event.lambda_context
    if isinstance(event, LambdaFunctionEvent):
        return event.event, event.context
    return event.to_dict(), event.context


def _answer(request: Request, get_response: Callable[[Request], Response]) -> Response:
    """Handle the request with its method, path and parameters in its log lines; echo the correlation id."""
    current = correlation_id() or ""
    with correlated(current, method=request.method, path=request.path, params=request.uri_params or {}):
        response = get_response(request)
        response.headers[CORRELATION_HEADER] = current
        logger.info("request handled", extra={"status": response.status_code})
    return response
