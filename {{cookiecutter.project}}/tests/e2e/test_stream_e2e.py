"""The stream end to end on devstack: table writes become audit entries, counters and DLQ entries."""

import json
import uuid
from typing import Any

from chalice_devstack.testing import Devstack

from chalicelib.config import get_settings
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import sign_up
{%- endif %}


def activity(devstack: Devstack, user_id: str) -> dict[str, Any]:
    reply = devstack.api("GET", f"/users/{user_id}/activity")
    assert reply.status == 200, reply.body
    body: dict[str, Any] = reply.body
    return body
{%- if cookiecutter.include_auth == 'y' %}


def create_user(devstack: Devstack) -> tuple[str, dict[str, str]]:
    """A new signed-in user with a profile: their id, and the headers to act as them."""
    reply, caller = sign_up(devstack, "Ada", f"ada.{uuid.uuid4().hex[:8]}@example.com")
    assert reply.status == 200, reply.body
    return str(reply.body["id"]), caller
{%- else %}


def create_user(devstack: Devstack) -> str:
    reply = devstack.api("POST", "/users", {"name": "Ada", "email": f"ada.{uuid.uuid4().hex[:8]}@example.com"})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])
{%- endif %}


def test_stream_a_new_user_appears_in_the_audit_trail_and_is_announced(devstack: Devstack) -> None:
    # Given: a user created over HTTP
    user_id{% if cookiecutter.include_auth == 'y' %}, _{% endif %} = create_user(devstack)
    # When: the stream poller hands the table change to record_activity
    body = devstack.wait_until(lambda: (a := activity(devstack, user_id))["audit"] and a, timeout=20)
    # Then: its audit trail holds the creation, and the domain events queue got UserCreated
    assert [entry["action"] for entry in body["audit"]] == ["user.created"]
    sqs = devstack.client("sqs")
    url = sqs.get_queue_url(QueueName=get_settings().domain_events_topic)["QueueUrl"]

    def user_created() -> bool:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return any(json.loads(m["Body"]).get("subject_id") == user_id for m in messages)

    assert devstack.wait_until(user_created, timeout=10)
{%- if cookiecutter.include_orders == 'y' %}


def test_stream_an_order_is_counted_placed_and_finished(devstack: Devstack) -> None:
    # Given: a user and an order placed for it (the saga then confirms or cancels it)
{%- if cookiecutter.include_auth == 'y' %}
    user_id, caller = create_user(devstack)
    product = devstack.api("GET", "/products").body["items"][0]["id"]
    order = {"items": [{"product_id": product, "quantity": 1}], "payment_token": "tok_ok"}
    reply = devstack.api("POST", "/orders", order, caller)
{%- else %}
    user_id = create_user(devstack)
    product = devstack.api("GET", "/products").body["items"][0]["id"]
    order = {"user_id": user_id, "items": [{"product_id": product, "quantity": 1}], "payment_token": "tok_ok"}
    reply = devstack.api("POST", "/orders", order)
{%- endif %}
    assert reply.status in (201, 202), reply.body

    # When: the saga finishes and the stream records both writes
    def finished() -> dict[str, Any] | None:
        counters = activity(devstack, user_id)["counters"]
        return counters if counters["orders_confirmed"] + counters["orders_cancelled"] == 1 else None

    counters = devstack.wait_until(finished, timeout=30) or {}
    # Then: one order placed, one finished, and the audit trail tells the story
    assert counters["orders_placed"] == 1
    actions = [entry["action"] for entry in activity(devstack, user_id)["audit"]]
    assert "order.placed" in actions and ("order.confirmed" in actions or "order.cancelled" in actions)
{%- endif %}


def test_stream_a_record_that_keeps_failing_lands_in_the_stream_dlq_and_the_rest_is_processed(
    devstack: Devstack,
) -> None:
    # Given: an order item without its owner written straight to the table (a poison record),
    # and a valid user created right after it on the same stream
    table = get_settings().service_table
    poison_id = str(uuid.uuid4())
    devstack.client("dynamodb").put_item(
        TableName=table,
        Item={
            "pk": {"S": f"ORDER#{poison_id}"},
            "sk": {"S": "ORDER"},
            "entity": {"S": "ORDER"},
            "id": {"S": poison_id},
            "status": {"S": "PENDING"},
        },
    )
    user_id{% if cookiecutter.include_auth == 'y' %}, _{% endif %} = create_user(devstack)
    # When: the mapping retries, bisects, and gives up on the poison record
    sqs = devstack.client("sqs")
    dlq = sqs.get_queue_url(QueueName=get_settings().stream_dlq)["QueueUrl"]

    def dead_letters() -> list[dict[str, Any]]:
        return list(sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", []))

    letters = devstack.wait_until(dead_letters, timeout=60)
    # Then: the DLQ names the failed stream batch, and the user after it was still recorded
    assert "DynamoDBStreamBatchInfo" in letters[0]["Body"] or "SequenceNumber" in letters[0]["Body"]
    body = devstack.wait_until(lambda: (a := activity(devstack, user_id))["audit"] and a, timeout=20)
    assert [entry["action"] for entry in body["audit"]] == ["user.created"]
