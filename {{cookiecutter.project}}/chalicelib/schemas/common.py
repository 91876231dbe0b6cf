"""Shared schema building blocks: strict input models and pagination."""

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from chalicelib.config import get_settings

T = TypeVar("T")

# A resource id: a UUID in canonical lowercase form (what str(uuid4()) gives).
ResourceId = Annotated[
    str, StringConstraints(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]


class InputModel(BaseModel):
    """Base for request bodies and queries: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageQuery(InputModel):
    """Query parameters of a paginated listing."""

    limit: int = Field(default_factory=lambda: get_settings().default_page_size, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)


class HeaderModel(BaseModel):
    """Base for the request headers a route reads: fields by their header name (alias); other headers ignored."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next` is an opaque cursor, absent on the last page."""

    items: list[T]
    next: str | None = None


class FieldError(BaseModel):
    """One bad input: the field (or header, or parameter) and what is wrong with it."""

    field: str
    message: str


class ErrorBody(BaseModel):
    """What went wrong: a stable code, a message for people, the bad fields, the correlation id."""

    code: str
    message: str
    details: list[FieldError]
    correlation_id: str | None


class ErrorResponse(BaseModel):
    """The JSON body of every error answer."""

    error: ErrorBody


class Health(BaseModel):
    """The API function is up: the service and its stage."""

    status: str
    service: str
    stage: str
