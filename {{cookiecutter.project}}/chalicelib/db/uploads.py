"""Uploads: their records in the service table and their objects in the uploads bucket."""

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from botocore.exceptions import ClientError
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.config import get_settings
from chalicelib.db.aws import s3_client
from chalicelib.db.base import ByTypeIndex, ServiceItem
from chalicelib.db.pagination import CursorScope, decode_cursor, encode_cursor
from chalicelib.errors import Conflict
from chalicelib.schemas.uploads import (
    ContentFacts,
    PresignedPost,
    StoredObject,
    Upload,
    UploadCreate,
    UploadStatus,
)

# Only PENDING uploads carry gsi1 keys (a sparse index), so the expiry job reads just those.
PENDING_PARTITION = "UPLOADS#PENDING"
PENDING_SCOPE = CursorScope(
    "pending uploads", frozenset({"pk", "sk", "gsi1pk", "gsi1sk"}), {"gsi1pk": PENDING_PARTITION}, {"pk": "UPLOAD#"}
)
UPLOAD_PREFIX = "uploads/"
QUARANTINE_PREFIX = "quarantine/"


class UploadItem(ServiceItem):
    """pk=UPLOAD#<id>, sk=UPLOAD; listed through gsi1 under UPLOADS#PENDING while pending."""

    entity = UnicodeAttribute(default="UPLOAD")
    id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    filename = UnicodeAttribute()
    content_type = UnicodeAttribute()
    size = NumberAttribute()
    key = UnicodeAttribute()
    status = UnicodeAttribute()
    content = JSONAttribute(null=True)
    reason = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_type = ByTypeIndex()


def upload_key(upload_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of an upload's item."""
    return f"UPLOAD#{upload_id}", "UPLOAD"


def object_key(upload_id: str) -> str:
    """The bucket key of an upload's file: generated, never from user input."""
    return f"{UPLOAD_PREFIX}{upload_id}"


def upload_id_of(key: str) -> str | None:
    """The upload id an object key names, or None when the key is not one the service generates."""
    if not key.startswith(UPLOAD_PREFIX):
        return None
    candidate = key.removeprefix(UPLOAD_PREFIX)
    try:
        return candidate if str(uuid.UUID(candidate)) == candidate else None
    except ValueError:
        return None


def _sort_time(moment: datetime) -> str:
    # Fixed width, so string order is time order (isoformat drops zero microseconds).
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _to_schema(item: UploadItem) -> Upload:
    return Upload(
        id=item.id,
        owner_id=item.owner_id,
        filename=item.filename,
        content_type=item.content_type,
        size=int(item.size),
        key=item.key,
        status=UploadStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
        content=ContentFacts.model_validate(item.content) if item.content else None,
        reason=item.reason,
    )


def _condition_failed(error: PutError | UpdateError) -> bool:
    return error.cause_response_code == "ConditionalCheckFailedException"


class UploadsRepository:
    """Stores upload records; every status change is a conditional write that succeeds once."""

    def create(self, data: UploadCreate, now: datetime | None = None) -> Upload:
        """Insert a PENDING upload with a fresh id and its generated object key."""
        now = now or datetime.now(UTC)
        upload_id = str(uuid.uuid4())
        item = UploadItem(
            *upload_key(upload_id),
            id=upload_id,
            owner_id=data.owner_id,
            filename=data.filename,
            content_type=data.content_type,
            size=data.size,
            key=object_key(upload_id),
            status=UploadStatus.PENDING.value,
            created_at=now,
            updated_at=now,
            gsi1pk=PENDING_PARTITION,
            gsi1sk=f"{_sort_time(now)}#{upload_id}",
        )
        try:
            item.save(condition=UploadItem.pk.does_not_exist())
        except PutError as error:
            if _condition_failed(error):
                raise Conflict(f"upload {upload_id} already exists") from error
            raise
        return _to_schema(item)

    def get(self, upload_id: str) -> Upload | None:
        """Return the upload, or None when there is none."""
        try:
            return _to_schema(UploadItem.get(*upload_key(upload_id), consistent_read=True))
        except UploadItem.DoesNotExist:
            return None

    def finish(
        self,
        upload_id: str,
        status: UploadStatus,
        content: ContentFacts | None = None,
        reason: str | None = None,
        now: datetime | None = None,
    ) -> Upload | None:
        """Move a PENDING upload to status; None when it is not (or no longer) PENDING."""
        actions: list[Any] = [
            UploadItem.status.set(status.value),
            UploadItem.updated_at.set(now or datetime.now(UTC)),
            UploadItem.gsi1pk.remove(),
            UploadItem.gsi1sk.remove(),
        ]
        if content is not None:
            actions.append(UploadItem.content.set(content.model_dump(mode="json")))
        if reason is not None:
            actions.append(UploadItem.reason.set(reason))
        item = UploadItem(*upload_key(upload_id))
        try:
            item.update(actions=actions, condition=UploadItem.status == UploadStatus.PENDING.value)
        except UpdateError as error:
            if _condition_failed(error):
                return None
            raise
        return _to_schema(item)

    def pending_before(self, cutoff: datetime, limit: int, cursor: str | None) -> tuple[list[Upload], str | None]:
        """One page of uploads still PENDING that were created before cutoff, oldest first."""
        result = UploadItem.by_type.query(
            PENDING_PARTITION,
            UploadItem.gsi1sk < _sort_time(cutoff),
            limit=limit,
            last_evaluated_key=decode_cursor(cursor, PENDING_SCOPE),
        )
        items = [_to_schema(item) for item in result if isinstance(item, UploadItem)]
        return items, encode_cursor(result.last_evaluated_key, PENDING_SCOPE)


def _missing(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound")


class UploadObjects:
    """The uploads bucket: presigned POSTs, reading objects, moving bad ones to quarantine/."""

    def __init__(self, bucket: str) -> None:
        self.bucket = bucket

    def presigned_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> PresignedPost:
        """A POST policy for exactly this key and content type, and at most max_bytes."""
        post = s3_client().generate_presigned_post(
            Bucket=self.bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in,
        )
        return PresignedPost(url=post["url"], fields=post["fields"])

    def read(self, key: str, max_bytes: int) -> StoredObject | None:
        """The object's size and, when it is within max_bytes, its bytes; None if there is no such object."""
        s3 = s3_client()
        try:
            size = int(s3.head_object(Bucket=self.bucket, Key=key)["ContentLength"])
            # An oversized object is never downloaded: its size alone rejects it.
            body = s3.get_object(Bucket=self.bucket, Key=key)["Body"].read() if size <= max_bytes else None
        except ClientError as error:
            if _missing(error):
                return None
            raise
        return StoredObject(key=key, size=size, body=body)

    def quarantine(self, key: str) -> str:
        """Move an object under quarantine/ (kept for inspection, expired by the bucket lifecycle).

        Idempotent: a missing source counts as already moved, so a duplicate notification is harmless.
        """
        if key.startswith(QUARANTINE_PREFIX):
            return key  # already there: moving it again would nest prefixes forever
        target = f"{QUARANTINE_PREFIX}{key}"
        s3 = s3_client()
        try:
            s3.copy_object(Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": key})
        except ClientError as error:
            if _missing(error):
                # S3 delivers at least once: an earlier delivery already moved it (or it was deleted).
                return target
            raise
        s3.delete_object(Bucket=self.bucket, Key=key)
        return target


@lru_cache(maxsize=1)
def uploads_repository() -> UploadsRepository:
    """Return the process-wide uploads repository."""
    return UploadsRepository()


@lru_cache(maxsize=1)
def upload_objects() -> UploadObjects:
    """Return the process-wide uploads bucket store."""
    return UploadObjects(get_settings().uploads_bucket)
