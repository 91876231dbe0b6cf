"""Upload use cases on moto: presigned POSTs, checking objects, idempotency, expiry."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.db.aws import s3_client
from chalicelib.db.users import users_repository
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.schemas.uploads import S3Notification, UploadCreate, UploadStatus
from chalicelib.schemas.users import UserCreate
from chalicelib.services import uploads
from tests.upload_samples import SAMPLES, gif, pdf, png

pytestmark = pytest.mark.usefixtures("aws")
MISSING = "00000000-0000-4000-8000-000000000000"


def s3() -> Any:
    return s3_client()


def bucket_keys() -> list[str]:
    listing = s3().list_objects_v2(Bucket=get_settings().uploads_bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def notification(key: str, size: int = 1) -> S3Notification:
    bucket = get_settings().uploads_bucket
    record = {
        "eventName": "ObjectCreated:Post",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": size}},
    }
    return S3Notification.model_validate({"Records": [record]})


def owner() -> str:
    return users_repository().create(UserCreate(name="Ada", email=f"ada-{uuid.uuid4().hex[:8]}@example.com")).id


def request_and_put(data: bytes, declared: str, size: int | None = None) -> str:
    """Given: an upload requested for `declared`, and `data` stored at its key."""
    grant = uploads.create_upload(
        UploadCreate(owner_id=owner(), filename="file", content_type=declared, size=size or len(data))
    )
    s3().put_object(Bucket=get_settings().uploads_bucket, Key=grant.key, Body=data, ContentType=declared)
    return grant.id


def test_create_upload_returns_a_presigned_post_for_a_generated_key() -> None:
    # When
    grant = uploads.create_upload(
        UploadCreate(owner_id=owner(), filename="..%2f..%2fpasswd .png", content_type="image/png", size=10)
    )
    # Then: the key is the service's, the policy pins type and size
    assert grant.key == f"uploads/{grant.id}" and grant.status is UploadStatus.PENDING
    assert grant.fields["key"] == grant.key
    assert grant.fields["Content-Type"] == "image/png"
    assert grant.url.endswith(get_settings().uploads_bucket) or get_settings().uploads_bucket in grant.url
    assert grant.expires_at > grant.created_at
    assert uploads.get_upload(grant.id).filename == "..%2f..%2fpasswd .png"


def test_presigned_post_policy_enforces_type_and_length_range() -> None:
    import base64
    import json

    grant = uploads.create_upload(UploadCreate(owner_id=owner(), filename="a.gif", content_type="image/gif", size=10))
    policy = json.loads(base64.b64decode(grant.fields["policy"]))
    assert {"Content-Type": "image/gif"} in policy["conditions"]
    assert ["content-length-range", 1, get_settings().upload_max_bytes] in policy["conditions"]
    assert {"key": grant.key} in policy["conditions"]


def test_create_upload_needs_an_existing_owner() -> None:
    with pytest.raises(NotFound) as raised:
        uploads.create_upload(UploadCreate(owner_id=MISSING, filename="a.png", content_type="image/png", size=10))
    assert raised.value.details == [{"field": "owner_id", "message": "no such user"}]


def test_create_upload_refuses_a_declared_size_over_the_limit() -> None:
    too_big = get_settings().upload_max_bytes + 1
    with pytest.raises(ValidationFailed) as raised:
        uploads.create_upload(UploadCreate(owner_id=owner(), filename="a.png", content_type="image/png", size=too_big))
    assert raised.value.details[0]["field"] == "size"


@pytest.mark.parametrize("content_type", sorted(SAMPLES))
def test_a_real_file_of_each_type_becomes_ready_with_its_facts(content_type: str) -> None:
    # Given
    data = SAMPLES[content_type]()
    upload_id = request_and_put(data, content_type)
    # When
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # Then
    upload = uploads.get_upload(upload_id)
    assert outcome.action == "ready" and upload.status is UploadStatus.READY
    assert upload.content is not None and upload.content.size == len(data)
    assert upload.content.content_type == content_type
    assert (upload.content.width is None) == (content_type == "application/pdf")
    assert bucket_keys() == [f"uploads/{upload_id}"]


def test_a_liar_is_quarantined_and_rejected_with_the_reason() -> None:
    # Given: a PDF uploaded as a PNG
    upload_id = request_and_put(pdf(), "image/png")
    # When
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # Then
    upload = uploads.get_upload(upload_id)
    assert upload.status is UploadStatus.REJECTED and outcome.action == "quarantined"
    assert upload.reason == "content is application/pdf, declared image/png"
    assert bucket_keys() == [f"quarantine/uploads/{upload_id}"]


def test_an_object_over_the_limit_is_rejected_without_being_read(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the limit drops below the file's size after the upload was granted
    data = png(64, 64)
    upload_id = request_and_put(data, "image/png")
    lower = get_settings().model_copy(update={"upload_max_bytes": len(data) - 1})
    monkeypatch.setattr(uploads, "get_settings", lambda: lower)
    # When
    uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # Then
    upload = uploads.get_upload(upload_id)
    assert upload.status is UploadStatus.REJECTED and upload.content is None
    assert upload.reason == f"file is {len(data)} bytes, over the {len(data) - 1}-byte limit"


def test_a_duplicate_notification_changes_nothing() -> None:
    # Given: one upload already checked
    upload_id = request_and_put(gif(), "image/gif")
    uploads.handle_notification(notification(f"uploads/{upload_id}"))
    first = uploads.get_upload(upload_id)
    # When: S3 delivers the same event again
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # Then
    assert outcome.action == "none" and uploads.get_upload(upload_id) == first


def test_a_duplicate_of_a_rejected_upload_does_not_fail_although_the_object_moved() -> None:
    upload_id = request_and_put(b"not an image at all", "image/png")
    uploads.handle_notification(notification(f"uploads/{upload_id}"))
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    assert outcome.action == "none" and outcome.status is UploadStatus.REJECTED
    assert bucket_keys() == [f"quarantine/uploads/{upload_id}"]


@pytest.mark.parametrize("key", [f"uploads/{MISSING}", "uploads/not-a-uuid", "elsewhere/file.png"])
def test_an_object_with_no_upload_record_is_quarantined(key: str) -> None:
    # Given
    s3().put_object(Bucket=get_settings().uploads_bucket, Key=key, Body=png())
    # When
    [outcome] = uploads.handle_notification(notification(key))
    # Then
    assert outcome.action == "quarantined" and outcome.reason == "no upload record for this key"
    assert bucket_keys() == [f"quarantine/{key}"]


@pytest.mark.parametrize("key", [f"uploads/{MISSING}", "elsewhere/file.png"])
def test_a_duplicate_for_an_orphan_already_quarantined_does_not_fail(key: str) -> None:
    # Given: an object nobody asked for, already moved to quarantine/ by the first delivery
    s3().put_object(Bucket=get_settings().uploads_bucket, Key=key, Body=png())
    uploads.handle_notification(notification(key))
    # When: S3 delivers the same event again
    [outcome] = uploads.handle_notification(notification(key))
    # Then: nothing fails and the quarantined copy is untouched
    assert outcome.action == "quarantined" and outcome.reason == "no upload record for this key"
    assert bucket_keys() == [f"quarantine/{key}"]


def test_a_duplicate_for_a_pending_upload_checks_it_once() -> None:
    # Given: an upload whose file arrived but is not yet checked
    upload_id = request_and_put(png(), "image/png")
    assert uploads.get_upload(upload_id).status is UploadStatus.PENDING
    # When: two deliveries of the same event arrive in one notification
    once = notification(f"uploads/{upload_id}")
    twice = once.model_copy(update={"records": once.records * 2})
    outcomes = uploads.handle_notification(twice)
    # Then: the first marks it READY, the second does nothing
    assert [outcome.action for outcome in outcomes] == ["ready", "none"]
    assert uploads.get_upload(upload_id).status is UploadStatus.READY
    assert bucket_keys() == [f"uploads/{upload_id}"]


def test_a_duplicate_for_an_expired_upload_already_quarantined_does_not_fail() -> None:
    # Given: a file that arrived after expiry, already quarantined by the first delivery
    upload_id = request_and_put(png(), "image/png")
    uploads.expire_stale_uploads(datetime.now(UTC) + timedelta(days=1), limit=10)
    uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # When
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    # Then
    assert outcome.action == "quarantined" and uploads.get_upload(upload_id).status is UploadStatus.EXPIRED
    assert bucket_keys() == [f"quarantine/uploads/{upload_id}"]


def test_the_s3_test_event_twice_does_nothing() -> None:
    event = S3Notification.model_validate(
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-01-01T00:00:00Z", "Bucket": "b"}
    )
    assert uploads.handle_notification(event) == [] and uploads.handle_notification(event) == []
    assert bucket_keys() == []


def test_keys_arrive_url_encoded_in_s3_events() -> None:
    record = notification("uploads/a+b%2Fc").records[0]
    assert record.s3.object.key == "uploads/a b/c"


def test_the_s3_test_event_does_nothing() -> None:
    event = S3Notification.model_validate(
        {"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2024-01-01T00:00:00Z", "Bucket": "b"}
    )
    assert uploads.handle_notification(event) == []


def test_expire_stale_uploads_expires_only_old_pending_ones_a_page_at_a_time() -> None:
    # Given: two uploads requested a day ago, one just now
    user_id = owner()
    now = datetime.now(UTC)

    def create(at: datetime) -> str:
        data = UploadCreate(owner_id=user_id, filename="f.png", content_type="image/png", size=5)
        return uploads.create_upload(data, now=at).id

    old = [create(now - timedelta(days=1)), create(now - timedelta(days=1))]
    fresh = create(now)
    # When: a one-item page, then the rest from the cursor
    first = uploads.expire_stale_uploads(now, limit=1)
    rest = uploads.expire_stale_uploads(now, limit=10, cursor=first.cursor)
    # Then
    assert (first.seen, first.expired) == (1, 1) and first.cursor is not None
    assert (rest.seen, rest.expired, rest.cursor) == (1, 1, None)
    assert [uploads.get_upload(i).status for i in old] == [UploadStatus.EXPIRED] * 2
    assert uploads.get_upload(fresh).status is UploadStatus.PENDING
    assert uploads.get_upload(old[0]).reason == "no file arrived in time"


def test_expire_stale_uploads_leaves_recent_and_finished_uploads_alone() -> None:
    # Given: one finished upload and one just requested
    ready_id = request_and_put(png(), "image/png")
    uploads.handle_notification(notification(f"uploads/{ready_id}"))
    pending = uploads.create_upload(UploadCreate(owner_id=owner(), filename="f.png", content_type="image/png", size=5))
    # When: the job runs now, and again long after
    now_run = uploads.expire_stale_uploads(datetime.now(UTC), limit=10)
    late_run = uploads.expire_stale_uploads(datetime.now(UTC) + timedelta(days=1), limit=10)
    again = uploads.expire_stale_uploads(datetime.now(UTC) + timedelta(days=1), limit=10)
    # Then
    assert (now_run.expired, late_run.expired, again.expired) == (0, 1, 0)
    assert uploads.get_upload(pending.id).status is UploadStatus.EXPIRED
    assert uploads.get_upload(ready_id).status is UploadStatus.READY


def test_a_file_arriving_after_expiry_is_quarantined() -> None:
    upload_id = request_and_put(png(), "image/png")
    uploads.expire_stale_uploads(datetime.now(UTC) + timedelta(days=1), limit=10)
    [outcome] = uploads.handle_notification(notification(f"uploads/{upload_id}"))
    assert outcome.action == "quarantined" and uploads.get_upload(upload_id).status is UploadStatus.EXPIRED
