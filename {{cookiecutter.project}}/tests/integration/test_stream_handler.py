"""record_activity through chalice.test.Client with DynamoDB stream events (distinct sequence numbers)."""

import json
import uuid
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from chalicelib.db.aws import sqs_client
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import as_user, new_user_id
{%- endif %}
from tests.conftest import TEST_REGION
from tests.stream_events import StreamEvents, order_image, upload_image, user_image

USER_ID = str(uuid.uuid4())


@pytest.fixture
def events() -> StreamEvents:
    return StreamEvents()


def invoke(client: Any, event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = client.lambda_.invoke("record_activity", event).payload
    return response


def activity(client: Any, user_id: str = USER_ID) -> dict[str, Any]:
    response = client.http.get(f"/users/{user_id}/activity")
    assert response.status_code == 200
    body: dict[str, Any] = response.json_body
    return body


def domain_events() -> list[dict[str, Any]]:
    sqs = sqs_client()
    url = sqs.get_queue_url(QueueName=get_settings().domain_events_topic)["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(message["Body"]) for message in messages]


def order_lifecycle(events: StreamEvents, order_id: str, final: str) -> list[dict[str, Any]]:
    pending = order_image(order_id, USER_ID, "PENDING")
    return [
        events.record("INSERT", new=pending),
        events.record("MODIFY", old=pending, new=order_image(order_id, USER_ID, final)),
    ]


def test_user_and_order_changes_become_counters_audit_entries_and_domain_events(
    client: Any, events: StreamEvents
) -> None:
    # Given a batch: a user created, one order confirmed, another cancelled, an upload ready
    confirmed, cancelled = str(uuid.uuid4()), str(uuid.uuid4())
    pending_upload = upload_image("up-1", USER_ID, "PENDING")
    batch = events.event(
        events.record("INSERT", new=user_image(USER_ID)),
        *order_lifecycle(events, confirmed, "CONFIRMED"),
        *order_lifecycle(events, cancelled, "CANCELLED"),
        events.record("MODIFY", old=pending_upload, new=upload_image("up-1", USER_ID, "READY")),
    )
    # When the stream handler gets it
    response = invoke(client, batch)
    # Then nothing failed, the counters add up and the audit trail lists every change, newest first
    assert response == {"batchItemFailures": []}
    body = activity(client)
    assert body["counters"] == {"orders_placed": 2, "orders_confirmed": 1, "orders_cancelled": 1, "uploads_ready": 1}
    assert len(body["audit"]) == 6
    assert {entry["action"] for entry in body["audit"]} == {
        "user.created",
        "order.placed",
        "order.confirmed",
        "order.cancelled",
        "upload.ready",
    }
    # And the topic fanned the domain events out to the subscribed queue
    published = sorted((event["type"], event["subject_id"]) for event in domain_events())
    assert published == sorted([("UserCreated", USER_ID), ("OrderConfirmed", confirmed), ("OrderCancelled", cancelled)])


def test_a_redelivered_batch_changes_nothing(client: Any, events: StreamEvents) -> None:
    # Given a batch already processed once
    batch = events.event(*order_lifecycle(events, str(uuid.uuid4()), "CONFIRMED"))
    assert invoke(client, batch) == {"batchItemFailures": []}
    # When Lambda delivers the same records again
    assert invoke(client, batch) == {"batchItemFailures": []}
    # Then each record counted once and left one audit entry
    body = activity(client)
    assert (body["counters"]["orders_placed"], body["counters"]["orders_confirmed"]) == (1, 1)
    assert len(body["audit"]) == 2


def test_a_poison_record_is_reported_by_sequence_number_and_the_rest_is_processed(
    client: Any, events: StreamEvents
) -> None:
    # Given a batch whose middle record is an order image without its owner
    poison = events.record("INSERT", new={"pk": "ORDER#x", "sk": "ORDER", "entity": "ORDER", "id": "x"})
    batch = events.event(
        events.record("INSERT", new=order_image(str(uuid.uuid4()), USER_ID, "PENDING")),
        poison,
        events.record("INSERT", new=order_image(str(uuid.uuid4()), USER_ID, "PENDING")),
    )
    # When the handler processes it
    response = invoke(client, batch)
    # Then only the poison record is reported, by its sequence number, and both others counted
    assert response == {"batchItemFailures": [{"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}]}
    assert activity(client)["counters"]["orders_placed"] == 2


def test_changes_to_untracked_items_are_skipped_without_failing(client: Any, events: StreamEvents) -> None:
    job_state = {"pk": "JOB#daily-report", "sk": "STATE", "entity": "JOB", "version": 1}
    response = invoke(client, events.event(events.record("MODIFY", old=job_state, new=job_state)))
    assert response == {"batchItemFailures": []}
    assert activity(client)["counters"] == dict.fromkeys(
        ["orders_placed", "orders_confirmed", "orders_cancelled", "uploads_ready"], 0
    )


def test_a_real_user_write_reduces_like_a_factory_record(client: Any, events: StreamEvents) -> None:
    # Given a user created through the API, and its stored item as the stream would carry it
    body = json.dumps({"name": "Ada", "email": "ada@example.com"})
{%- if cookiecutter.include_auth == 'y' %}
    headers = {"Content-Type": "application/json", **as_user(new_user_id())}
    user = client.http.put("/users/me", body=body, headers=headers).json_body
{%- else %}
    user = client.http.post("/users", body=body, headers={"Content-Type": "application/json"}).json_body
{%- endif %}
    table = boto3.resource("dynamodb", region_name=TEST_REGION).Table(get_settings().service_table)
    item = table.get_item(Key={"pk": f"USER#{user['id']}", "sk": "PROFILE"})["Item"]
    # When its INSERT record reaches the handler
    assert invoke(client, events.event(events.record("INSERT", new=dict(item)))) == {"batchItemFailures": []}
    # Then the audit trail has the creation
    assert [entry["action"] for entry in activity(client, user["id"])["audit"]] == ["user.created"]


def test_activity_of_a_bad_user_id_is_a_400(client: Any) -> None:
    assert client.http.get("/users/not-a-uuid/activity").status_code == 400
{%- if cookiecutter.include_auth == 'y' %}


def test_a_users_activity_is_theirs_another_user_gets_404(client: Any) -> None:
    owner = activity(client)  # an admin reads anyone's
    assert client.http.get(f"/users/{USER_ID}/activity", headers=as_user(USER_ID)).json_body == owner
    assert client.http.get(f"/users/{USER_ID}/activity", headers=as_user(new_user_id())).status_code == 404
{%- endif %}
