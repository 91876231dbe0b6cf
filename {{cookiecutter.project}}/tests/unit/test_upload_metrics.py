"""The uploads' business metrics: ready and rejected, each counted once per upload."""

import uuid

import pytest

from chalicelib.config import get_settings
from chalicelib.db.aws import s3_client
from chalicelib.db.users import users_repository
from chalicelib.schemas.uploads import S3Notification, UploadCreate
from chalicelib.schemas.users import UserCreate
from chalicelib.services import uploads
from tests.metrics_support import no_leftover_metrics, published  # noqa: F401 - an autouse fixture
from tests.upload_samples import pdf, png

pytestmark = pytest.mark.usefixtures("aws")


def uploaded(data: bytes, declared: str) -> str:
    """Given: an upload requested for `declared` and `data` stored at its key; returns its key."""
    owner = users_repository().create(UserCreate(name="Ada", email=f"ada-{uuid.uuid4().hex[:8]}@example.com")).id
    grant = uploads.create_upload(UploadCreate(owner_id=owner, filename="f", content_type=declared, size=len(data)))
    s3_client().put_object(Bucket=get_settings().uploads_bucket, Key=grant.key, Body=data, ContentType=declared)
    return grant.key


def arrived(*keys: str) -> S3Notification:
    bucket = get_settings().uploads_bucket
    records = [
        {"eventName": "ObjectCreated:Post", "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 1}}}
        for key in keys
    ]
    return S3Notification.model_validate({"Records": records})


def test_ready_and_rejected_uploads_are_counted_once_in_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a real PNG, and a PDF declared as a PNG
    good, liar = uploaded(png(), "image/png"), uploaded(pdf(), "image/png")
    capsys.readouterr()
    # When their notification arrives, and is delivered again
    uploads.handle_notification(arrived(good, liar))
    uploads.handle_notification(arrived(good))
    # Then one EMF line in the service's namespace counts one ready and one rejected
    [emf] = published(capsys)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == get_settings().service_name
    assert (emf["UploadsReady"], emf["UploadsRejected"]) == ([1.0], [1.0])


def test_an_object_without_an_upload_is_not_an_upload_outcome(capsys: pytest.CaptureFixture[str]) -> None:
    # When an object no upload asked for arrives
    uploads.handle_notification(arrived("uploads/00000000-0000-4000-8000-000000000000"))
    # Then it is quarantined but counts as neither ready nor rejected
    assert published(capsys) == []
