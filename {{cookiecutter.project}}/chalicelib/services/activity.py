"""Activity: pure reducers from table changes to reactions, and the use cases that apply them.

Reducers are pure (a TableChange in, a Reaction or None out) so they are unit-tested
without AWS. Applying a reaction is idempotent: the audit entry is keyed by the stream
record's event id and written in the same transaction as the counter increments, so a
redelivered record changes nothing (the transaction's condition fails as a whole).
Domain events are published before the write: a failure after publishing redelivers the
record and publishes again with the same event_id (at-least-once; consumers deduplicate).
"""

from collections.abc import Callable

from chalicelib.db.activity import activity_repository, domain_events
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.errors import NotFound
{%- endif %}
from chalicelib.observability import logger
from chalicelib.schemas.activity import (
    AuditEntry,
    Counter,
    DomainEvent,
    DomainEventType,
    OrderImage,
    Reaction,
    TableChange,
    UploadImage,
    UserActivity,
    UserImage,
)
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}

ORDER_FINAL_STATES = {"CONFIRMED": Counter.ORDERS_CONFIRMED, "CANCELLED": Counter.ORDERS_CANCELLED}
ORDER_EVENT_TYPES: dict[str, DomainEventType] = {"CONFIRMED": "OrderConfirmed", "CANCELLED": "OrderCancelled"}
UPLOAD_READY = "READY"


def _audit(change: TableChange, user_id: str, action: str, subject_id: str, **detail: str) -> AuditEntry:
    return AuditEntry(
        user_id=user_id, event_id=change.event_id, at=change.at, action=action, subject_id=subject_id, detail=detail
    )


def react_to_user(change: TableChange) -> Reaction | None:
    """A user created or deleted: audit it and announce it; profile edits are not tracked."""
    if change.kind == "MODIFY":
        return None
    user = UserImage.model_validate(change.new if change.kind == "INSERT" else change.old)
    created = change.kind == "INSERT"
    action = "user.created" if created else "user.deleted"
    event_type: DomainEventType = "UserCreated" if created else "UserDeleted"
    event = DomainEvent(event_id=change.event_id, type=event_type, at=change.at, user_id=user.id, subject_id=user.id)
    return Reaction(audit=_audit(change, user.id, action, user.id), events=[event])


def react_to_order(change: TableChange) -> Reaction | None:
    """An order placed or moved to a new status: audit, count, and announce final states."""
    if change.kind == "INSERT":
        order = OrderImage.model_validate(change.new)
        audit = _audit(change, order.user_id, "order.placed", order.id, status=order.status)
        return Reaction(audit=audit, counters={Counter.ORDERS_PLACED: 1})
    if change.kind == "REMOVE":
        return None
    old, new = OrderImage.model_validate(change.old), OrderImage.model_validate(change.new)
    if old.status == new.status:
        return None
    detail = {"from": old.status, "to": new.status} | ({"reason": new.reason} if new.reason else {})
    audit = _audit(change, new.user_id, f"order.{new.status.lower()}", new.id, **detail)
    if new.status not in ORDER_FINAL_STATES:
        return Reaction(audit=audit)
    event = DomainEvent(
        event_id=change.event_id,
        type=ORDER_EVENT_TYPES[new.status],
        at=change.at,
        user_id=new.user_id,
        subject_id=new.id,
        detail=detail,
    )
    return Reaction(audit=audit, counters={ORDER_FINAL_STATES[new.status]: 1}, events=[event])


def react_to_upload(change: TableChange) -> Reaction | None:
    """An upload changed status: audit it; count it when it became READY."""
    if change.kind == "REMOVE":
        return None
    new = UploadImage.model_validate(change.new)
    old_status = UploadImage.model_validate(change.old).status if change.old else None
    if old_status == new.status:
        return None
    audit = _audit(change, new.user_id, f"upload.{new.status.lower()}", new.id, status=new.status)
    counters = {Counter.UPLOADS_READY: 1} if new.status == UPLOAD_READY else {}
    return Reaction(audit=audit, counters=counters)


REDUCERS: dict[str, Callable[[TableChange], Reaction | None]] = {
    "USER": react_to_user,
    "ORDER": react_to_order,
    "UPLOAD": react_to_upload,
}


def react(change: TableChange) -> Reaction | None:
    """The reaction to one table change; None for items activity does not track.

    A tracked item whose image lacks what its reducer needs raises (a poison record:
    retried, then sent to the stream DLQ), never silently skipped.
    """
    reducer = REDUCERS.get(change.entity or "")
    return reducer(change) if reducer else None


def record_change(change: TableChange) -> Reaction | None:
    """Apply one table change's reaction once; return it (None if the change is not tracked)."""
    reaction = react(change)
    if reaction is None:
        return None
    for event in reaction.events:
        domain_events().publish(event)
    applied = activity_repository().apply(reaction)
    logger.info(
        "activity recorded" if applied else "activity already recorded",
        extra={"action": reaction.audit.action, "user_id": reaction.audit.user_id, "event_id": change.event_id},
    )
    return reaction


def get_user_activity(user_id: str, limit: int) -> UserActivity:
    """Return a user's counters and latest audit entries (a user never seen has zeros)."""
    repository = activity_repository()
    return UserActivity(user_id=user_id, counters=repository.counters(user_id), audit=repository.audit(user_id, limit))
{%- if cookiecutter.include_auth == 'y' %}


def read_user_activity(caller: Principal, user_id: str, limit: int) -> UserActivity:
    """A user's activity as the caller may read it (their own; anyone's for an admin), else NotFound."""
    if not caller.may_read(user_id):
        raise NotFound(f"user {user_id} not found")
    return get_user_activity(user_id, limit)
{%- endif %}
