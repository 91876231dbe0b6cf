"""User API bodies and the user resource."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from chalicelib.schemas.common import InputModel

UserName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Email = Annotated[EmailStr, Field(max_length=254)]


class UserCreate(InputModel):
    """Body of POST /users."""

    name: UserName
    email: Email


def _without_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class UserUpdate(InputModel):
    """Body of PATCH /users/{id}: any subset of the fields, at least one."""

    # null is refused (a name cannot be unset), so the schema offers neither null nor a null default.
    name: UserName | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_without_default)
    email: Email | SkipJsonSchema[None] = Field(default=None, json_schema_extra=_without_default)

    @field_validator("name", "email", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may not be null")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> "UserUpdate":
        if not self.model_fields_set:
            raise ValueError("at least one of name, email is required")
        return self


class User(BaseModel):
    """A user as the API returns it."""

    id: str
    name: str
    email: str
    created_at: datetime
    updated_at: datetime
