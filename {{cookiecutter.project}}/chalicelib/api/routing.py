"""What every route shares: JSON errors, request parsing and JSON responses."""

import functools
import uuid
from collections.abc import Callable
from typing import Any, TypeVar, cast

from chalice.app import Blueprint, CORSConfig, Request, Response
from pydantic import BaseModel, ValidationError

from chalicelib.config import get_settings
from chalicelib.errors import InvalidRequest, ServiceError, ValidationFailed, field_error, http_status
from chalicelib.observability import correlation_id, logger

M = TypeVar("M", bound=BaseModel)

CORS = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Content-Type", "Idempotency-Key", "X-Correlation-Id"],
    expose_headers=["X-Correlation-Id", "Location"],
    max_age=600,
)


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes answer errors as JSON and allow CORS by default."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        """Register a view like Blueprint.route, wrapped so errors become JSON."""
        kwargs.setdefault("cors", CORS)
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            return cast(Callable[..., Any], register(_json_errors(view)))

        return decorator


def _json_errors(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as error:
            logger.info("request rejected", extra={"code": error.code, "error_message": error.message})
            return error_response(error)
        except Exception:
            # The stack trace goes to the log, never to the client.
            logger.exception("unhandled error")
            return error_response(ServiceError("internal error; quote the correlation id when reporting it"))

    return wrapper


def error_response(error: ServiceError) -> Response:
    """Render an error in the service's JSON error shape."""
    body = {
        "error": {
            "code": error.code,
            "message": error.message,
            "details": error.details,
            "correlation_id": correlation_id(),
        }
    }
    return Response(body=body, status_code=http_status(error))


def json_response(
    model: BaseModel | None, status: int = 200, headers: dict[str, str | list[str]] | None = None
) -> Response:
    """Render a schema (or an empty body) as a JSON response."""
    body = "" if model is None else model.model_dump(mode="json")
    return Response(body=body, status_code=status, headers=headers or {})


def parse_body(request: Request, schema: type[M]) -> M:
    """Validate the JSON body against schema; 400 for bad JSON, 422 naming each bad field."""
    raw = request.raw_body or b""
    if not raw.strip():
        raise InvalidRequest("request body is required", [field_error("body", "expected a JSON object")])
    try:
        return schema.model_validate_json(raw)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise InvalidRequest("request body is not valid JSON", [field_error("body", "malformed JSON")]) from None
        raise ValidationFailed("request body is invalid", _field_errors(error)) from None


def parse_query(request: Request, schema: type[M]) -> M:
    """Validate the query string against schema; 400 naming each bad parameter."""
    try:
        return schema.model_validate(dict(request.query_params or {}))
    except ValidationError as error:
        raise InvalidRequest("query parameters are invalid", _field_errors(error)) from None


def parse_id(value: str, field: str = "id") -> str:
    """Return value if it is a canonical UUID, else raise a 400 naming the field."""
    try:
        if str(uuid.UUID(value)) == value:
            return value
    except ValueError:
        pass
    raise InvalidRequest(f"{field} is not valid", [field_error(field, "must be a lowercase UUID")])


def _field_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        field_error(".".join(str(part) for part in item["loc"]) or "body", item["msg"])
        for item in error.errors(include_url=False)
    ]
