"""A small data pipeline that uses every kind of Chalice event source; each handler notes what it got.

Every handler writes the event it received to the journal table (one item per invocation), so a
test reads back exactly what Lambda (here: devstack) delivered.
"""

import json
import os
import time
import uuid
from typing import Any

import boto3
from chalice import Chalice, Rate

app = Chalice(app_name="pipeline")

# Bound to the table's real stream in infra/resources.yaml (Events.ChangesDynamodbEventSource.Stream).
PLACEHOLDER_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/pipeline-records/stream/1970-01-01T00:00:00.000"
_journal: list[Any] = []


def note(function: str, event: Any) -> None:
    """Journal one invocation's event."""
    if not _journal:
        _journal.append(boto3.client("dynamodb"))
    item = {
        "function": {"S": function},
        "at": {"S": f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}"},
        "event": {"S": json.dumps(event.to_dict())},
    }
    _journal[0].put_item(TableName=os.environ["JOURNAL_TABLE"], Item=item)


@app.on_sqs_message(queue="pipeline-work", batch_size=10)
def work(event: Any) -> dict[str, Any]:
    """Reports the messages whose body is "bad" as failed; the rest succeed."""
    note("work", event)
    return {"batchItemFailures": [{"itemIdentifier": r.to_dict()["messageId"]} for r in event if r.body == "bad"]}


@app.on_sqs_message(queue="pipeline-steps.fifo", batch_size=10)
def steps(event: Any) -> None:
    """Fails a batch holding a "stall" message the first time that message is received."""
    note("steps", event)
    for record in event.to_dict()["Records"]:
        if record["body"] == "stall" and record["attributes"]["ApproximateReceiveCount"] == "1":
            raise RuntimeError("stalled")


@app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM)
def changes(event: Any) -> None:
    """Notes each change to the records table."""
    note("changes", event)


@app.on_kinesis_record(stream="pipeline-clicks", batch_size=10)
def clicks(event: Any) -> dict[str, Any]:
    """Reports a record whose data is b"bad" as failed."""
    note("clicks", event)
    return {"batchItemFailures": [{"itemIdentifier": r.sequence_number} for r in event if r.data == b"bad"]}


@app.on_sns_message(topic="pipeline-alerts")
def alerts(event: Any) -> None:
    """Notes each alert."""
    note("alerts", event)


@app.on_s3_event(bucket="pipeline-inbox", events=["s3:ObjectCreated:*"], prefix="incoming/", suffix=".csv")
def inbox(event: Any) -> None:
    """Notes each CSV file dropped under incoming/."""
    note("inbox", event)


@app.on_cw_event({"source": ["pipeline.tests"], "detail-type": ["Ping"]})
def pings(event: Any) -> None:
    """Notes each matching EventBridge event."""
    note("pings", event)


@app.schedule(Rate(1, unit=Rate.DAYS))
def nightly(event: Any) -> None:
    """Notes each scheduled run."""
    note("nightly", event)
