"""What every route shares: declared inputs parsed for it, JSON errors, JSON responses, its OpenAPI contract.

A route declares the models it reads (body, query, headers) and answers (response, errors);
the wrapper validates the request with them and hands the views parsed models, and the same
declaration is the route's entry in the OpenAPI document (`make openapi`), so the two cannot drift.
{%- if cookiecutter.include_auth == 'y' %}
Every route needs a signed-in caller (the user pool authorizer) unless it says `public=True`; a private
view that takes a `caller` argument gets the caller as a Principal.
{%- endif %}
"""

import functools
{%- if cookiecutter.include_auth == 'y' %}
import inspect
{%- endif %}
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from chalice.app import Blueprint, CORSConfig, Request, Response
from pydantic import BaseModel, ValidationError, create_model

{% if cookiecutter.include_auth == 'y' -%}
from chalicelib.api.auth import USER_POOL, principal_of
{% endif -%}
from chalicelib.config import get_settings
from chalicelib.errors import InvalidRequest, ServiceError, ValidationFailed, field_error, http_status, status_for
from chalicelib.middleware import CORRELATION_HEADER
from chalicelib.observability import correlation_id, logger
from chalicelib.schemas.common import ErrorBody, ErrorResponse, InputModel, ResourceId

M = TypeVar("M", bound=BaseModel)
Model = type[BaseModel]

CORS = CORSConfig(
    allow_origin=get_settings().cors_allow_origin,
    allow_headers=["Content-Type", {% if cookiecutter.include_auth == 'y' %}"Authorization", {% endif %}"Idempotency-Key", CORRELATION_HEADER],
    expose_headers=[CORRELATION_HEADER, "Location"],
    max_age=600,
)


@dataclass(frozen=True)
class Contract:
    """What a route reads and answers: the models it validates with and the errors it may raise."""

    path: Model | None = None
    body: Model | None = None
    query: Model | None = None
    headers: Model | None = None
    response: Model | None = None
    status: int = 200
    errors: tuple[type[ServiceError], ...] = ()
    location: bool = False
{%- if cookiecutter.include_auth == 'y' %}
    signed_in: bool = False
{%- endif %}

    def inputs(self, request: Request) -> dict[str, BaseModel]:
        """The request's declared parts, parsed: the view's keyword arguments."""
        if self.path is not None:
            parse_path(request, self.path)
        parsers: dict[str, tuple[Model | None, Callable[[Request, Model], BaseModel]]] = {
            "headers": (self.headers, parse_headers),
            "query": (self.query, parse_query),
            "body": (self.body, parse_body),
        }
        return {name: parse(request, model) for name, (model, parse) in parsers.items() if model is not None}

    def error_statuses(self) -> set[int]:
        """Every error status the route can answer: bad input, its declared errors, an internal error."""
        raised = {*self.errors, ServiceError}
        if self.path or self.query or self.headers or self.body:
            raised.add(InvalidRequest)
        if self.body:
            raised.add(ValidationFailed)
        return {status_for(error) for error in raised}

    def openapi(self) -> dict[str, Any]:
        """The route's entry in the OpenAPI document (read by `devstack openapi`)."""
        responses: dict[int, Model | None] = {status: ErrorResponse for status in self.error_statuses()}
        responses[self.status] = self.response
        headers = {status: {CORRELATION_HEADER: "the request's correlation id"} for status in responses}
        if self.location:
            headers[self.status] = {**headers[self.status], "Location": "the new resource's path"}
{%- if cookiecutter.include_auth == 'y' %}
        if self.signed_in:
            # API Gateway's own answer to a rejected token (GatewayResponses in infra/resources.yaml): the
            # service's error shape, without the correlation header the function would add.
            responses[401] = ErrorResponse
{%- endif %}
        return {
            "path": self.path,
            "body": self.body,
            "query": self.query,
            "headers": self.headers,
            "responses": responses,
            "response_headers": headers,
        }


def path_ids(path: str) -> Model | None:
    """The path's parameters as a model: every one is a resource id (None if the path has none)."""
    names = re.findall(r"\{(\w+)\}", path)
    fields: dict[str, Any] = {name: (ResourceId, ...) for name in names}
    return create_model("PathIds", __base__=InputModel, **fields) if names else None


class ApiBlueprint(Blueprint):
    """A Blueprint whose routes parse their declared inputs, answer errors as JSON and allow CORS by default."""

    def route(
        self,
        path: str,
        *,
        params: Model | None = None,
        body: Model | None = None,
        query: Model | None = None,
        headers: Model | None = None,
        response: Model | None = None,
        status: int = 200,
        errors: tuple[type[ServiceError], ...] = (),
        location: bool = False,
{%- if cookiecutter.include_auth == 'y' %}
        public: bool = False,
{%- endif %}
        **kwargs: Any,
    ) -> Callable[..., Any]:
        """Register a view like Blueprint.route; it gets the parsed body/query/headers as keyword arguments.

        params: the path parameters' model, when they are not all resource ids (the default).
        """
        kwargs.setdefault("cors", CORS)
{%- if cookiecutter.include_auth == 'y' %}
        if not public:
            kwargs.setdefault("authorizer", USER_POOL)
{%- endif %}
        register = super().route(path, **kwargs)
{%- if cookiecutter.include_auth == 'y' %}
        contract = Contract(
            params or path_ids(path), body, query, headers, response, status, errors, location, signed_in=not public
        )
{%- else %}
        contract = Contract(params or path_ids(path), body, query, headers, response, status, errors, location)
{%- endif %}

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
{%- if cookiecutter.include_auth == 'y' %}
            wants_caller = not public and "caller" in inspect.signature(view).parameters
{% endif %}
            @functools.wraps(view)
            def with_inputs(**uri_params: str) -> Any:
{%- if cookiecutter.include_auth == 'y' %}
                inputs: dict[str, Any] = contract.inputs(self.current_request)
                if wants_caller:
                    inputs["caller"] = principal_of(self.current_request)
                return view(**uri_params, **inputs)
{%- else %}
                return view(**uri_params, **contract.inputs(self.current_request))
{%- endif %}

            wrapped = _json_errors(with_inputs)
            wrapped.openapi = contract.openapi()  # type: ignore[attr-defined]
            return cast(Callable[..., Any], register(wrapped))

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
    body = ErrorBody.model_validate(
        {"code": error.code, "message": error.message, "details": error.details, "correlation_id": correlation_id()}
    )
    return Response(body=ErrorResponse(error=body).model_dump(mode="json"), status_code=http_status(error))


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


def parse_headers(request: Request, schema: type[M]) -> M:
    """Validate the headers schema names (by alias) against it; 400 naming each bad header."""
    names = [field.alias or name for name, field in schema.model_fields.items()]
    try:
        return schema.model_validate({name: request.headers[name] for name in names if name in request.headers})
    except ValidationError as error:
        raise InvalidRequest("request headers are invalid", _field_errors(error)) from None


def parse_path(request: Request, schema: type[M]) -> M:
    """Validate the path parameters against schema; 400 naming each bad one."""
    try:
        return schema.model_validate(request.uri_params or {})
    except ValidationError as error:
        raise InvalidRequest("path parameters are invalid", _field_errors(error)) from None


def _field_errors(error: ValidationError) -> list[dict[str, Any]]:
    return [
        field_error(".".join(str(part) for part in item["loc"]) or "body", item["msg"])
        for item in error.errors(include_url=False)
    ]
