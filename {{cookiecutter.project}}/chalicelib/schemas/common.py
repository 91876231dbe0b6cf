"""Shared schema building blocks: strict input models and pagination."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from chalicelib.config import get_settings

T = TypeVar("T")


class InputModel(BaseModel):
    """Base for request bodies and queries: unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class PageQuery(InputModel):
    """Query parameters of a paginated listing."""

    limit: int = Field(default_factory=lambda: get_settings().default_page_size, ge=1, le=100)
    cursor: str | None = Field(default=None, min_length=1, max_length=2048)


class Page(BaseModel, Generic[T]):
    """One page of a listing; `next` is an opaque cursor, absent on the last page."""

    items: list[T]
    next: str | None = None
