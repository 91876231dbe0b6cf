"""Lambda event factories for tests: records with distinct ids (Chalice's generator repeats them)."""

import hashlib
import uuid
from typing import Any

REGION = "us-east-1"
ACCOUNT = "123456789012"


def sqs_record(body: str, queue_name: str, receive_count: int = 1, message_id: str | None = None) -> dict[str, Any]:
    """One SQS record as Lambda's event source mapping delivers it, with a fresh messageId."""
    message_id = message_id or str(uuid.uuid4())
    return {
        "messageId": message_id,
        "receiptHandle": f"handle-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDAEXAMPLE",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}",
        "awsRegion": REGION,
    }


def sqs_event(bodies: list[str], queue_name: str) -> dict[str, Any]:
    """An SQS batch event whose records all have distinct message ids."""
    return {"Records": [sqs_record(body, queue_name) for body in bodies]}
