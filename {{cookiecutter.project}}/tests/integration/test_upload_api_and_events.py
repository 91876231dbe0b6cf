"""Uploads through chalice.test.Client: the API, and the queue handler fed real S3 notifications."""

import json
import uuid
from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.db.aws import s3_client, sqs_client
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import as_admin, as_user, new_user_id
{%- endif %}
from tests.upload_samples import gif, jpeg, pdf, png

MISSING = "00000000-0000-4000-8000-000000000000"
{%- if cookiecutter.include_auth == 'y' %}


def call(client: Any, method: str, path: str, body: Any = None, user: str | None = None) -> Any:
    """A request signed in as user (an admin of its own when None)."""
    payload = json.dumps(body) if body is not None else None
    caller = as_user(user) if user else as_admin()
    return client.http.request(method, path, body=payload, headers={"Content-Type": "application/json", **caller})


def create_user(client: Any) -> str:
    user_id = new_user_id()
    profile = {"name": "Ada", "email": f"ada-{uuid.uuid4().hex[:8]}@example.com"}
    response = call(client, "PUT", "/users/me", profile, user=user_id)
    assert response.status_code == 200
    return user_id


def request_upload(client: Any, content_type: str, size: int, owner_id: str | None = None) -> dict[str, Any]:
    owner = owner_id or create_user(client)
    response = call(client, "POST", "/uploads", {"filename": "f", "content_type": content_type, "size": size}, owner)
{%- else %}


def call(client: Any, method: str, path: str, body: Any = None) -> Any:
    payload = json.dumps(body) if body is not None else None
    return client.http.request(method, path, body=payload, headers={"Content-Type": "application/json"})


def create_user(client: Any) -> str:
    response = call(client, "POST", "/users", {"name": "Ada", "email": f"ada-{uuid.uuid4().hex[:8]}@example.com"})
    assert response.status_code == 201
    return str(response.json_body["id"])


def request_upload(client: Any, content_type: str, size: int, owner_id: str | None = None) -> dict[str, Any]:
    body = {"owner_id": owner_id or create_user(client), "filename": "f", "content_type": content_type, "size": size}
    response = call(client, "POST", "/uploads", body)
{%- endif %}
    assert response.status_code == 201, response.json_body
    return response.json_body  # type: ignore[no-any-return]


def s3() -> Any:
    return s3_client()


def sqs() -> Any:
    return sqs_client()


def queued_notifications() -> list[str]:
    """The bodies S3 (moto) sent to the uploads queue, taken off the queue."""
    url = sqs().get_queue_url(QueueName=get_settings().uploads_queue)["QueueUrl"]
    bodies: list[str] = []
    for _ in range(10):  # bounded: moto returns everything queued within a few calls
        messages = sqs().receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        bodies += [message["Body"] for message in messages]
    return bodies


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    """An SQS event with a distinct messageId per record (Chalice's generator repeats one id)."""
    records = [
        {
            "messageId": f"msg-{index}-{uuid.uuid4().hex[:8]}",
            "receiptHandle": f"handle-{index}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{get_settings().uploads_queue}",
            "awsRegion": "us-east-1",
        }
        for index, body in enumerate(bodies)
    ]
    return {"Records": records}


def process(client: Any, bodies: list[str]) -> dict[str, Any]:
    response = client.lambda_.invoke("process_uploads", sqs_event(bodies))
    return response.payload  # type: ignore[no-any-return]


def status(client: Any, upload_id: str) -> dict[str, Any]:
    response = call(client, "GET", f"/uploads/{upload_id}")
    assert response.status_code == 200
    return response.json_body  # type: ignore[no-any-return]


def test_post_uploads_answers_201_with_a_presigned_post(client: Any) -> None:
    # When
    grant = request_upload(client, "image/png", 71)
    # Then
    assert grant["status"] == "PENDING" and grant["key"] == f"uploads/{grant['id']}"
    assert grant["url"] and grant["fields"]["key"] == grant["key"] and grant["fields"]["policy"]
    assert status(client, grant["id"])["status"] == "PENDING"


@pytest.mark.parametrize(
    ("body", "status_code", "field"),
    [
{%- if cookiecutter.include_auth == 'y' %}
        # The owner is the caller (here one with no profile yet): a body naming one is refused.
        ({"filename": "f", "content_type": "image/png", "size": 1}, 404, "owner_id"),
        ({"owner_id": "x", "filename": "f", "content_type": "image/png", "size": 1}, 422, "owner_id"),
        ({"owner_id": MISSING, "filename": "f", "content_type": "image/png", "size": 1}, 422, "owner_id"),
{%- else %}
        ({"filename": "f", "content_type": "image/png", "size": 1}, 422, "owner_id"),
        ({"owner_id": "x", "filename": "f", "content_type": "image/png", "size": 1}, 422, "owner_id"),
        ({"owner_id": MISSING, "filename": "f", "content_type": "image/png", "size": 1}, 404, "owner_id"),
{%- endif %}
        ({"owner_id": MISSING, "filename": "f", "content_type": "text/html", "size": 1}, 422, "content_type"),
        ({"owner_id": MISSING, "filename": "../x.png", "content_type": "image/png", "size": 1}, 422, "filename"),
        ({"owner_id": MISSING, "filename": "f", "content_type": "image/png", "size": 0}, 422, "size"),
        ({"owner_id": MISSING, "filename": "f", "content_type": "image/png", "size": 1, "key": "x"}, 422, "key"),
    ],
    ids=[{% if cookiecutter.include_auth == 'y' %}"no-profile", "bad-owner", "owner-in-body"{% else %}"no-owner", "bad-owner", "unknown-owner"{% endif %}, "bad-type", "path-in-name", "empty", "client-key"],
)
def test_post_uploads_rejects_bad_requests_naming_the_field(
    client: Any, body: dict[str, Any], status_code: int, field: str
) -> None:
    response = call(client, "POST", "/uploads", body)
    assert response.status_code == status_code, response.json_body
    assert field in [detail["field"] for detail in response.json_body["error"]["details"]]


def test_post_uploads_refuses_a_size_over_the_limit(client: Any) -> None:
{%- if cookiecutter.include_auth == 'y' %}
    grant_body = {"filename": "f", "content_type": "image/png", "size": get_settings().upload_max_bytes + 1}
    response = call(client, "POST", "/uploads", grant_body, create_user(client))
{%- else %}
    grant_body = {"owner_id": create_user(client), "filename": "f", "content_type": "image/png"}
    response = call(client, "POST", "/uploads", {**grant_body, "size": get_settings().upload_max_bytes + 1})
{%- endif %}
    assert response.status_code == 422 and response.json_body["error"]["details"][0]["field"] == "size"


def test_get_unknown_or_malformed_upload(client: Any) -> None:
    assert call(client, "GET", f"/uploads/{MISSING}").status_code == 404
    assert call(client, "GET", "/uploads/not-an-id").status_code == 400


def test_a_batch_of_s3_notifications_marks_good_files_ready_and_liars_rejected(client: Any) -> None:
    # Given: four uploads whose files S3 stored (moto queues one notification per object)
    owner = create_user(client)
    files = {"png": (png(), "image/png"), "jpeg": (jpeg(), "image/jpeg"), "liar": (pdf(), "image/gif")}
    grants = {}
    for name, (data, content_type) in files.items():
        grants[name] = request_upload(client, content_type, len(data), owner)
        s3().put_object(Bucket=get_settings().uploads_bucket, Key=grants[name]["key"], Body=data)
    bodies = queued_notifications()
    # S3 (and moto) sends s3:TestEvent when the notification is configured, then one event per object.
    assert len(bodies) == 4 and json.loads(bodies[0])["Event"] == "s3:TestEvent"
    # When
    result = process(client, bodies)
    # Then
    assert result == {"batchItemFailures": []}
    assert status(client, grants["png"]["id"])["status"] == "READY"
    ready = status(client, grants["jpeg"]["id"])
    assert ready["status"] == "READY" and (ready["content"]["width"], ready["content"]["height"]) == (16, 8)
    liar = status(client, grants["liar"]["id"])
    assert liar["status"] == "REJECTED" and liar["reason"] == "content is application/pdf, declared image/gif"
    keys = [item["Key"] for item in s3().list_objects_v2(Bucket=get_settings().uploads_bucket)["Contents"]]
    assert f"quarantine/{grants['liar']['key']}" in keys and grants["liar"]["key"] not in keys


def test_test_events_duplicates_and_unknown_keys_do_not_fail_the_batch(client: Any) -> None:
    # Given: S3's test event, one good upload's notification twice, and an object nobody asked for
    grant = request_upload(client, "image/gif", len(gif()))
    bucket = get_settings().uploads_bucket
    s3().put_object(Bucket=bucket, Key=grant["key"], Body=gif())
    s3().put_object(Bucket=bucket, Key=f"uploads/{MISSING}", Body=png())
    test_event, good, unknown = queued_notifications()
    # When
    result = process(client, [test_event, good, unknown, good])
    # Then
    assert result == {"batchItemFailures": []}
    assert status(client, grant["id"])["status"] == "READY"
    keys = [item["Key"] for item in s3().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted([grant["key"], f"quarantine/uploads/{MISSING}"])


def test_a_duplicate_notification_in_a_later_batch_is_harmless_in_every_state(client: Any) -> None:
    # Given: one READY upload, one REJECTED (quarantined) and one orphan object, each checked once
    bucket = get_settings().uploads_bucket
    good = request_upload(client, "image/gif", len(gif()))
    liar = request_upload(client, "image/png", 20)
    s3().put_object(Bucket=bucket, Key=good["key"], Body=gif())
    s3().put_object(Bucket=bucket, Key=liar["key"], Body=b"not a png, 20 bytes!")
    s3().put_object(Bucket=bucket, Key=f"uploads/{MISSING}", Body=png())
    bodies = queued_notifications()
    assert process(client, bodies) == {"batchItemFailures": []}
    # When: S3 delivers every notification again, in a later batch
    result = process(client, bodies)
    # Then: no record fails (none would reach the DLQ) and nothing moved again
    assert result == {"batchItemFailures": []}
    assert (status(client, good["id"])["status"], status(client, liar["id"])["status"]) == ("READY", "REJECTED")
    keys = [item["Key"] for item in s3().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == sorted([good["key"], f"quarantine/{liar['key']}", f"quarantine/uploads/{MISSING}"])


def test_only_the_malformed_record_is_reported_as_failed(client: Any) -> None:
    # Given: a good notification between two bodies that are not S3 notifications
    grant = request_upload(client, "image/png", len(png()))
    s3().put_object(Bucket=get_settings().uploads_bucket, Key=grant["key"], Body=png())
    _test_event, good = queued_notifications()
    event = sqs_event(["not json", good, json.dumps({"Records": [{"eventName": "ObjectCreated:Put"}]})])
    # When
    result = client.lambda_.invoke("process_uploads", event).payload
    # Then
    failed = [item["itemIdentifier"] for item in result["batchItemFailures"]]
    assert failed == [event["Records"][0]["messageId"], event["Records"][2]["messageId"]]
    assert status(client, grant["id"])["status"] == "READY"
{%- if cookiecutter.include_auth == 'y' %}


def test_an_upload_is_its_owners_another_user_gets_404_and_an_admin_reads_it(client: Any) -> None:
    # Given Alice's upload
    alice, bob = create_user(client), create_user(client)
    grant = request_upload(client, "image/png", 71, alice)
    # Then Bob gets 404 as if it did not exist, Alice and an admin read it
    assert call(client, "GET", f"/uploads/{grant['id']}", user=bob).status_code == 404
    assert call(client, "GET", f"/uploads/{grant['id']}", user=alice).json_body["owner_id"] == alice
    assert call(client, "GET", f"/uploads/{grant['id']}").status_code == 200
{%- endif %}
