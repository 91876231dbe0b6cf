"""Domain errors, and the one table that maps them to HTTP status codes."""

from typing import Any


class ServiceError(Exception):
    """Base of every error the service raises on purpose."""

    code = "internal_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class InvalidRequest(ServiceError):
    """The request is malformed: bad JSON, a bad id, a bad query parameter."""

    code = "invalid_request"


class ValidationFailed(ServiceError):
    """The request is well-formed but a field's value is not acceptable."""

    code = "validation_failed"


class NotFound(ServiceError):
    """The addressed resource does not exist."""

    code = "not_found"


{%- if cookiecutter.include_auth == 'y' %}


class Forbidden(ServiceError):
    """The caller is signed in but not allowed to do this (an admin-only action)."""

    code = "forbidden"
{%- endif %}


class Conflict(ServiceError):
    """The request conflicts with the current state (a duplicate, a race)."""

    code = "conflict"


class TransientError(ServiceError):
    """A dependency failed in a way that may succeed on retry (the saga retries these)."""

    code = "transient_error"
{% if cookiecutter.include_orders == 'y' %}

class OutOfStock(Conflict):
    """An order asks for more of a product than is available (a business failure: no retry)."""

    code = "out_of_stock"


class PaymentDeclined(Conflict):
    """The payment provider declined the charge (a business failure: no retry)."""

    code = "payment_declined"
{% endif %}

HTTP_STATUS: dict[type[ServiceError], int] = {
    InvalidRequest: 400,
{%- if cookiecutter.include_auth == 'y' %}
    Forbidden: 403,
{%- endif %}
    NotFound: 404,
    Conflict: 409,
    ValidationFailed: 422,
    TransientError: 503,
    ServiceError: 500,
}


def http_status(error: ServiceError) -> int:
    """Return the HTTP status for an error: its nearest class in HTTP_STATUS."""
    return status_for(type(error))


def status_for(error_class: type[ServiceError]) -> int:
    """Return the HTTP status for an error class: its nearest class in HTTP_STATUS."""
    for cls in error_class.__mro__:
        if cls in HTTP_STATUS:
            return HTTP_STATUS[cls]
    return 500


def field_error(field: str, message: str) -> dict[str, Any]:
    """Build one entry of an error's details list."""
    return {"field": field, "message": message}
