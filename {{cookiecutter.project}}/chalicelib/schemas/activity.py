"""What the stream handler reads (table changes) and writes (audit entries, counters, domain events)."""

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from chalicelib.schemas.common import InputModel

DomainEventType = Literal["UserCreated", "UserDeleted", "OrderConfirmed", "OrderCancelled"]


class Counter(StrEnum):
    """The per-user counters the stream keeps."""

    ORDERS_PLACED = "orders_placed"
    ORDERS_CONFIRMED = "orders_confirmed"
    ORDERS_CANCELLED = "orders_cancelled"
    UPLOADS_READY = "uploads_ready"


class TableChange(BaseModel):
    """One DynamoDB stream record of the service table, its images already deserialized."""

    event_id: str
    sequence_number: str
    kind: Literal["INSERT", "MODIFY", "REMOVE"]
    at: datetime
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None

    @property
    def entity(self) -> str | None:
        """The changed item's kind (its `entity` attribute), from whichever image exists."""
        image = self.new or self.old or {}
        entity = image.get("entity")
        return entity if isinstance(entity, str) else None


class _Image(BaseModel):
    """An item image: only the attributes activity reads; the rest is ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class UserImage(_Image):
    """A user profile item."""

    id: str


class OrderImage(_Image):
    """An order item."""

    id: str
    user_id: str
    status: str
    reason: str | None = None


class UploadImage(_Image):
    """An upload item; its owner is `user_id` (or `owner_id`)."""

    id: str
    user_id: str = Field(validation_alias=AliasChoices("user_id", "owner_id"))
    status: str


class AuditEntry(BaseModel):
    """One line of a user's audit trail; event_id (the stream record's) makes it unique."""

    user_id: str
    event_id: str
    at: datetime
    action: str
    subject_id: str
    detail: dict[str, str] = Field(default_factory=dict)


class DomainEvent(BaseModel):
    """A fact other services may react to, published once per stream record (at least once)."""

    event_id: str
    type: DomainEventType
    at: datetime
    user_id: str
    subject_id: str
    detail: dict[str, str] = Field(default_factory=dict)


class Reaction(BaseModel):
    """What one table change means for activity: an audit entry, counter increments, events."""

    audit: AuditEntry
    counters: dict[Counter, int] = Field(default_factory=dict)
    events: list[DomainEvent] = Field(default_factory=list)


class UserActivity(BaseModel):
    """GET /users/{id}/activity: the user's counters and latest audit entries (newest first)."""

    user_id: str
    counters: dict[Counter, int]
    audit: list[AuditEntry]


class ActivityQuery(InputModel):
    """Query of GET /users/{id}/activity."""

    limit: int = Field(default=20, ge=1, le=100)
