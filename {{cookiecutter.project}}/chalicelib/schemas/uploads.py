"""Upload API bodies, the upload resource and the S3 notifications its queue carries."""

from datetime import datetime
from enum import StrEnum
from typing import Annotated
from urllib.parse import unquote_plus

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.schemas.common import InputModel, ResourceId

# The content types a client may declare, each the only type its magic bytes may show.
ALLOWED_CONTENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")
# Shown to the client and kept as metadata only: the object key never contains it.
FileName = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\x00-\x1f\x7f/\\]+$")]


class UploadStatus(StrEnum):
    """PENDING until the object is checked; then READY, REJECTED, or EXPIRED if it never came."""

    PENDING = "PENDING"
    READY = "READY"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


{%- if cookiecutter.include_auth == 'y' %}


class UploadRequest(InputModel):
    """Body of POST /uploads: what the signed-in caller uploads, as the client declares it."""
{% else %}


class UploadCreate(InputModel):
    """Body of POST /uploads: who uploads what, as the client declares it."""

    owner_id: ResourceId
{%- endif %}
    filename: FileName
    # Matched case-insensitively; the document lists the allowed values.
    content_type: Annotated[
        str, StringConstraints(to_lower=True), Field(json_schema_extra={"enum": list(ALLOWED_CONTENT_TYPES)})
    ]
    size: int = Field(ge=1)

    @field_validator("content_type")
    @classmethod
    def _allowed_type(cls, value: str) -> str:
        if value not in ALLOWED_CONTENT_TYPES:
            raise ValueError(f"must be one of {', '.join(ALLOWED_CONTENT_TYPES)}")
        return value
{%- if cookiecutter.include_auth == 'y' %}


class UploadCreate(UploadRequest):
    """An upload to record: the body and its owner."""

    owner_id: ResourceId
{%- endif %}


class ContentFacts(BaseModel):
    """What the object's bytes show, whatever the client declared."""

    size: int
    sha256: str
    content_type: str | None = None
    width: int | None = None
    height: int | None = None


class Upload(BaseModel):
    """An upload as the API returns it."""

    id: str
    owner_id: str
    filename: str
    content_type: str
    size: int
    key: str
    status: UploadStatus
    created_at: datetime
    updated_at: datetime
    content: ContentFacts | None = None
    reason: str | None = None


class UploadGrant(Upload):
    """A new upload and how to send its file: POST `fields` plus the file to `url` before `expires_at`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


class PresignedPost(BaseModel):
    """What S3 answers for a presigned POST."""

    url: str
    fields: dict[str, str]


class StoredObject(BaseModel):
    """An object as S3 holds it: its size, and its bytes unless it is too large to read."""

    key: str
    size: int
    body: bytes | None = None


class S3Object(BaseModel):
    """The object of an S3 notification record (its key arrives URL-encoded)."""

    model_config = ConfigDict(extra="ignore")

    key: str
    size: int = 0

    @field_validator("key")
    @classmethod
    def _decode_key(cls, value: str) -> str:
        return unquote_plus(value)


class S3Bucket(BaseModel):
    """The bucket of an S3 notification record."""

    model_config = ConfigDict(extra="ignore")

    name: str


class S3Entity(BaseModel):
    """The `s3` part of an S3 notification record."""

    model_config = ConfigDict(extra="ignore")

    bucket: S3Bucket
    object: S3Object


class S3Record(BaseModel):
    """One record of an S3 notification."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    event_name: str = Field(alias="eventName")
    s3: S3Entity


class S3Notification(BaseModel):
    """An S3 notification as the uploads queue delivers it: records, or S3's one-off test event."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    records: list[S3Record] = Field(default_factory=list, alias="Records")
    event: str | None = Field(default=None, alias="Event")

    @property
    def is_test_event(self) -> bool:
        """True for the s3:TestEvent S3 sends when the notification is configured."""
        return self.event == "s3:TestEvent"


class ObjectOutcome(BaseModel):
    """What handling one object-created record did."""

    key: str
    upload_id: str | None = None
    status: UploadStatus | None = None
    action: str
    reason: str | None = None


class ExpiryRun(BaseModel):
    """One bounded page of expiring stale PENDING uploads; `cursor` resumes it (None at the end)."""

    seen: int = 0
    expired: int = 0
    cursor: str | None = None
