"""Upload use cases: presigned POSTs, checking what arrived, expiring what never did."""

from datetime import UTC, datetime, timedelta

from chalicelib.config import get_settings
from chalicelib.db.uploads import upload_id_of, upload_objects, uploads_repository
from chalicelib.db.users import users_repository
from chalicelib.errors import NotFound, ValidationFailed, field_error
from chalicelib.observability import count, logger
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}
from chalicelib.schemas.uploads import (
    ContentFacts,
    ExpiryRun,
    ObjectOutcome,
    S3Notification,
    S3Record,
    Upload,
    UploadCreate,
    UploadGrant,
    UploadStatus,
)
from chalicelib.services.upload_content import inspect, rejection

# A presigned POST signed at creation can still be in flight when it expires: allow a margin.
EXPIRY_GRACE = timedelta(minutes=5)

# Business metrics (EMF, the service's namespace): one per outcome, counted by the delivery
# that moved the upload out of PENDING, so a duplicate notification counts nothing.
OUTCOME_METRICS = {UploadStatus.READY: "UploadsReady", UploadStatus.REJECTED: "UploadsRejected"}


def create_upload(data: UploadCreate, now: datetime | None = None) -> UploadGrant:
    """Record a PENDING upload for an existing user and return a presigned POST for its file."""
    settings = get_settings()
    if data.size > settings.upload_max_bytes:
        raise ValidationFailed(
            "file is too large", [field_error("size", f"must be at most {settings.upload_max_bytes} bytes")]
        )
    if users_repository().get(data.owner_id) is None:
        raise NotFound(f"user {data.owner_id} not found", [field_error("owner_id", "no such user")])
    now = now or datetime.now(UTC)
    upload = uploads_repository().create(data, now)
    post = upload_objects().presigned_post(
        upload.key, upload.content_type, settings.upload_max_bytes, settings.upload_url_ttl_seconds
    )
    logger.info("upload requested", extra={"upload_id": upload.id, "owner_id": upload.owner_id})
    return UploadGrant(
        **upload.model_dump(),
        url=post.url,
        fields=post.fields,
        expires_at=now + timedelta(seconds=settings.upload_url_ttl_seconds),
    )


def get_upload(upload_id: str) -> Upload:
    """Return one upload or raise NotFound."""
    upload = uploads_repository().get(upload_id)
    if upload is None:
        raise NotFound(f"upload {upload_id} not found")
    return upload
{%- if cookiecutter.include_auth == 'y' %}


def read_upload(caller: Principal, upload_id: str) -> Upload:
    """Return an upload the caller may read (their own; anyone's for an admin), else NotFound as if it did not exist."""
    upload = get_upload(upload_id)
    if not caller.may_read(upload.owner_id):
        raise NotFound(f"upload {upload_id} not found")
    return upload
{%- endif %}


def handle_notification(notification: S3Notification) -> list[ObjectOutcome]:
    """Check each object an S3 notification announces; S3's test event does nothing."""
    if notification.is_test_event:
        logger.info("s3 test event ignored")
        return []
    return [check_object(record) for record in notification.records if record.event_name.startswith("ObjectCreated")]


def check_object(record: S3Record) -> ObjectOutcome:
    """Verify one new object by its content: mark its upload READY, or quarantine it and say why.

    Safe to repeat: only a PENDING upload changes state, once (a conditional write), so a
    duplicate notification finds it READY or REJECTED and does nothing.
    """
    key = record.s3.object.key
    upload_id = upload_id_of(key)
    upload = uploads_repository().get(upload_id) if upload_id else None
    if upload is None:
        return _quarantine_orphan(key, "no upload record for this key")
    if upload.status in (UploadStatus.READY, UploadStatus.REJECTED):
        logger.info("duplicate notification ignored", extra={"upload_id": upload.id, "status": upload.status})
        return ObjectOutcome(key=key, upload_id=upload.id, status=upload.status, action="none")
    if upload.status is UploadStatus.EXPIRED:
        return _quarantine_orphan(key, "upload expired before the file arrived", upload.id)
    max_bytes = get_settings().upload_max_bytes
    stored = upload_objects().read(key, max_bytes)
    if stored is None:
        # A duplicate may have moved it already; if so the record shows it, else S3 will tell us on retry.
        current = uploads_repository().get(upload.id)
        if current is not None and current.status is not UploadStatus.PENDING:
            return ObjectOutcome(key=key, upload_id=upload.id, status=current.status, action="none")
        raise LookupError(f"object {key} of PENDING upload {upload.id} is missing")
    facts = inspect(stored.body) if stored.body is not None else None
    reason = (
        rejection(facts, upload.content_type, upload.size, max_bytes)
        if facts is not None
        else f"file is {stored.size} bytes, over the {max_bytes}-byte limit"
    )
    if reason is None:
        return _finish(upload, UploadStatus.READY, facts, None, key)
    upload_objects().quarantine(key)
    return _finish(upload, UploadStatus.REJECTED, facts, reason, key)


def _finish(
    upload: Upload, status: UploadStatus, facts: ContentFacts | None, reason: str | None, key: str
) -> ObjectOutcome:
    finished = uploads_repository().finish(upload.id, status, facts, reason)
    if finished is None:
        logger.info("upload already finished by another delivery", extra={"upload_id": upload.id})
        return ObjectOutcome(key=key, upload_id=upload.id, action="none")
    count(OUTCOME_METRICS[status])
    log = logger.info if status is UploadStatus.READY else logger.warning
    log("upload checked", extra={"upload_id": upload.id, "status": status, "reason": reason})
    return ObjectOutcome(
        key=key, upload_id=upload.id, status=status, action="ready" if reason is None else "quarantined", reason=reason
    )


def _quarantine_orphan(key: str, reason: str, upload_id: str | None = None) -> ObjectOutcome:
    target = upload_objects().quarantine(key)
    logger.warning("object quarantined", extra={"key": key, "quarantine_key": target, "reason": reason})
    return ObjectOutcome(key=key, upload_id=upload_id, action="quarantined", reason=reason)


def expire_stale_uploads(now: datetime, limit: int, cursor: str | None = None) -> ExpiryRun:
    """Mark EXPIRED one page of uploads still PENDING after their presigned POST lapsed.

    Bounded (at most `limit` uploads read); resume with the returned cursor (None at the end).
    Safe to run twice at once: each upload leaves PENDING once (a conditional write).
    """
    cutoff = now - timedelta(seconds=get_settings().upload_url_ttl_seconds) - EXPIRY_GRACE
    stale, next_cursor = uploads_repository().pending_before(cutoff, limit, cursor)
    expired = 0
    for upload in stale:
        if uploads_repository().finish(upload.id, UploadStatus.EXPIRED, reason="no file arrived in time", now=now):
            expired += 1
    if expired:
        logger.info("uploads expired", extra={"count": expired})
    return ExpiryRun(seen=len(stale), expired=expired, cursor=next_cursor)
