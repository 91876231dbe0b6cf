"""A DynamoDB stream event factory (Chalice has none): each record gets a distinct sequence number."""

import itertools
import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from boto3.dynamodb.types import TypeSerializer

STREAM_ARN = "arn:aws:dynamodb:{{ cookiecutter.aws_region }}:123456789012:table/tests/stream/2024-01-01T00:00:00.000"
_serializer = TypeSerializer()


def _serialize(image: dict[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in image.items()}


class StreamEvents:
    """Builds stream records the way Lambda delivers them, numbering them in order."""

    def __init__(self) -> None:
        self._sequence = itertools.count(100_000_000_000_000_000_001)

    def record(
        self,
        kind: Literal["INSERT", "MODIFY", "REMOVE"],
        new: dict[str, Any] | None = None,
        old: dict[str, Any] | None = None,
        at: datetime | None = None,
        event_id: str | None = None,
    ) -> dict[str, Any]:
        """One record; new/old are plain item images (pk and sk included)."""
        image = new or old or {}
        dynamodb: dict[str, Any] = {
            "ApproximateCreationDateTime": int((at or datetime.now(UTC)).timestamp()),
            "Keys": _serialize({"pk": image["pk"], "sk": image["sk"]}),
            "SequenceNumber": str(next(self._sequence)),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        }
        if new is not None:
            dynamodb["NewImage"] = _serialize(new)
        if old is not None:
            dynamodb["OldImage"] = _serialize(old)
        return {
            "eventID": event_id or uuid.uuid4().hex,
            "eventName": kind,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "{{ cookiecutter.aws_region }}",
            "dynamodb": dynamodb,
            "eventSourceARN": STREAM_ARN,
        }

    @staticmethod
    def event(*records: dict[str, Any]) -> dict[str, Any]:
        """A Lambda event carrying the records as one batch."""
        return {"Records": list(records)}


def user_image(user_id: str, email: str = "ada@example.com") -> dict[str, Any]:
    """A user profile item as the service table stores it."""
    return {"pk": f"USER#{user_id}", "sk": "PROFILE", "entity": "USER", "id": user_id, "name": "Ada", "email": email}


def order_image(order_id: str, user_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
    """An order item as the service table stores it (the attributes activity reads)."""
    image = {"pk": f"ORDER#{order_id}", "sk": "ORDER", "entity": "ORDER", "id": order_id, "user_id": user_id}
    image["status"] = status
    if reason is not None:
        image["reason"] = reason
    return image


def upload_image(upload_id: str, user_id: str, status: str) -> dict[str, Any]:
    """An upload item as the service table stores it (the attributes activity reads)."""
    image = {"pk": f"UPLOAD#{upload_id}", "sk": "UPLOAD", "entity": "UPLOAD", "id": upload_id, "user_id": user_id}
    image["status"] = status
    return image
