"""The activity reducers: pure functions from a table change to a reaction."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

import pytest
from pydantic import ValidationError

from chalicelib.schemas.activity import Counter, TableChange
from chalicelib.services.activity import react
from tests.stream_events import order_image, upload_image, user_image

AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
USER_ID = str(uuid.uuid4())
ORDER_ID = str(uuid.uuid4())


def change(
    kind: Literal["INSERT", "MODIFY", "REMOVE"], new: dict[str, Any] | None = None, old: dict[str, Any] | None = None
) -> TableChange:
    return TableChange(event_id="evt-1", sequence_number="101", kind=kind, at=AT, new=new, old=old)


def test_a_new_user_is_audited_and_announced() -> None:
    # Given a user profile inserted
    # When the change is reduced
    reaction = react(change("INSERT", new=user_image(USER_ID)))
    # Then it is audited as user.created with no counters, and a UserCreated event goes out
    assert reaction is not None
    assert (reaction.audit.user_id, reaction.audit.action, reaction.audit.at) == (USER_ID, "user.created", AT)
    assert reaction.counters == {}
    assert [(e.type, e.user_id, e.event_id) for e in reaction.events] == [("UserCreated", USER_ID, "evt-1")]


def test_a_deleted_user_is_audited_from_the_old_image() -> None:
    reaction = react(change("REMOVE", old=user_image(USER_ID)))
    assert reaction is not None
    assert reaction.audit.action == "user.deleted"
    assert [e.type for e in reaction.events] == ["UserDeleted"]


def test_a_profile_edit_is_not_tracked() -> None:
    assert react(change("MODIFY", new=user_image(USER_ID, "b@example.com"), old=user_image(USER_ID))) is None


def test_a_placed_order_counts_as_placed_without_an_event() -> None:
    reaction = react(change("INSERT", new=order_image(ORDER_ID, USER_ID, "PENDING")))
    assert reaction is not None
    assert reaction.audit.action == "order.placed"
    assert reaction.counters == {Counter.ORDERS_PLACED: 1}
    assert reaction.events == []


@pytest.mark.parametrize(
    ("status", "counter", "event_type"),
    [
        ("CONFIRMED", Counter.ORDERS_CONFIRMED, "OrderConfirmed"),
        ("CANCELLED", Counter.ORDERS_CANCELLED, "OrderCancelled"),
    ],
)
def test_a_finished_order_counts_and_publishes(status: str, counter: Counter, event_type: str) -> None:
    # Given an order moving from PENDING to a final status
    old, new = order_image(ORDER_ID, USER_ID, "PENDING"), order_image(ORDER_ID, USER_ID, status, reason="why")
    # When reduced
    reaction = react(change("MODIFY", new=new, old=old))
    # Then its counter moves and one domain event names the order and the transition
    assert reaction is not None
    assert reaction.audit.action == f"order.{status.lower()}"
    assert reaction.counters == {counter: 1}
    assert [(e.type, e.subject_id, e.detail) for e in reaction.events] == [
        (event_type, ORDER_ID, {"from": "PENDING", "to": status, "reason": "why"})
    ]


def test_an_order_write_that_keeps_its_status_is_not_tracked() -> None:
    image = order_image(ORDER_ID, USER_ID, "PENDING")
    assert react(change("MODIFY", new=image, old=image)) is None


def test_an_upload_becoming_ready_counts_and_a_rejection_is_only_audited() -> None:
    pending, ready = upload_image("u1", USER_ID, "PENDING"), upload_image("u1", USER_ID, "READY")
    became_ready = react(change("MODIFY", new=ready, old=pending))
    rejected = react(change("MODIFY", new=upload_image("u1", USER_ID, "REJECTED"), old=pending))
    assert became_ready is not None and rejected is not None
    assert (became_ready.audit.action, became_ready.counters) == ("upload.ready", {Counter.UPLOADS_READY: 1})
    assert (rejected.audit.action, rejected.counters) == ("upload.rejected", {})


def test_items_activity_does_not_track_are_ignored() -> None:
    job_state = {"pk": "JOB#x", "sk": "STATE", "entity": "JOB"}
    assert react(change("MODIFY", new=job_state, old=job_state)) is None
    assert react(change("INSERT", new={"pk": "EMAIL#a", "sk": "CLAIM"})) is None


def test_a_tracked_item_missing_what_its_reducer_needs_raises() -> None:
    # Given an order image without its owner (a poison record)
    broken = {"pk": f"ORDER#{ORDER_ID}", "sk": "ORDER", "entity": "ORDER", "id": ORDER_ID, "status": "PENDING"}
    # Then reducing it fails loudly (retried, then sent to the stream DLQ) instead of being skipped
    with pytest.raises(ValidationError):
        react(change("INSERT", new=broken))
