"""User API bodies and the user resource."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StringConstraints, field_validator, model_validator

from chalicelib.schemas.common import InputModel

UserName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Email = Annotated[EmailStr, Field(max_length=254)]


class UserCreate(InputModel):
    """Body of POST /users."""

    name: UserName
    email: Email


def _not_nullable(schema: dict[str, Any]) -> None:
    """Document an optional field as absent-or-valid: null is refused, so neither null nor a null default."""
    choices = [choice for choice in schema.pop("anyOf", []) if choice.get("type") != "null"]
    schema.update(choices[0] if len(choices) == 1 else {"anyOf": choices})
    schema.pop("default", None)


class UserUpdate(InputModel):
    """Body of PATCH /users/{id}: any subset of the fields, at least one."""

    name: UserName | None = Field(default=None, json_schema_extra=_not_nullable)
    email: Email | None = Field(default=None, json_schema_extra=_not_nullable)

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
