"""Every Chalice event source on devstack, end to end: the pipeline test app (tests/apps/pipeline).

One devstack (a child process) serves the whole module; each test drives one source through the
AWS API as a client would and reads back, from the app's journal table, the events its handler got.
"""

import base64
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, DevstackError, running_devstack
from tests.conftest import APPS_DIR, TEST_REGION

PIPELINE = APPS_DIR / "pipeline"


@pytest.fixture(scope="module")
def stack() -> Iterator[Devstack]:
    """Given: the pipeline app running on devstack."""
    with running_devstack(Project.at(PIPELINE), "dev", TEST_REGION) as running:
        yield running


def journal(stack: Devstack, function: str) -> list[dict[str, Any]]:
    """The events a handler of the pipeline app received, oldest first."""
    items = stack.client("dynamodb").query(
        TableName="pipeline-journal",
        KeyConditionExpression="#f = :f",
        ExpressionAttributeNames={"#f": "function"},
        ExpressionAttributeValues={":f": {"S": function}},
    )["Items"]
    return [json.loads(item["event"]["S"]) for item in items]


def invocations(stack: Devstack, function: str, count: int) -> list[dict[str, Any]]:
    """Wait until a handler has received `count` events; return them."""

    def enough() -> list[dict[str, Any]]:
        events = journal(stack, function)
        return events if len(events) >= count else []

    return stack.wait_until(enough)


def queue_url(stack: Devstack, name: str) -> str:
    """A queue's URL on the devstack."""
    return str(stack.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])


def queue_depths(stack: Devstack, name: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = stack.client("sqs").get_queue_attributes(QueueUrl=queue_url(stack, name), AttributeNames=names)
    return int(attributes["Attributes"][names[0]]), int(attributes["Attributes"][names[1]])


def bodies(event: dict[str, Any]) -> list[str]:
    """The message bodies of an SQS event."""
    return [record["body"] for record in event["Records"]]


def test_sqs_partial_batch_failure_keeps_only_the_failed_message(stack: Devstack) -> None:
    """Given a queue handler that reports "bad" bodies failed, When three messages arrive,
    Then the two good ones are deleted and the bad one stays in flight, in Lambda's SQS record shape."""
    entries = [{"Id": str(n), "MessageBody": body} for n, body in enumerate(("good", "bad", "fine"))]
    stack.client("sqs").send_message_batch(QueueUrl=queue_url(stack, "pipeline-work"), Entries=entries)

    stack.wait_until(lambda: queue_depths(stack, "pipeline-work") == (0, 1))
    records = [record for event in journal(stack, "work") for record in event["Records"]]
    assert sorted(record["body"] for record in records) == ["bad", "fine", "good"]
    assert records[0]["eventSource"] == "aws:sqs"
    assert records[0]["eventSourceARN"] == f"arn:aws:sqs:{TEST_REGION}:123456789012:pipeline-work"
    assert records[0]["attributes"]["ApproximateReceiveCount"] == "1"


def test_fifo_failed_batch_blocks_its_group_but_not_the_others(stack: Devstack) -> None:
    """Given a FIFO handler whose batch with "stall" fails on first receipt,
    When group A's "stall" fails and then A's "a2" and B's "b1" arrive,
    Then b1 is delivered at once, and a2 only after stall, on stall's second receipt."""
    sqs, url = stack.client("sqs"), queue_url(stack, "pipeline-steps.fifo")
    sqs.send_message(QueueUrl=url, MessageBody="stall", MessageGroupId="A")
    invocations(stack, "steps", 1)
    sqs.send_message(QueueUrl=url, MessageBody="a2", MessageGroupId="A")
    sqs.send_message(QueueUrl=url, MessageBody="b1", MessageGroupId="B")

    events = invocations(stack, "steps", 3)
    delivered = [bodies(event) for event in events]
    assert delivered == [["stall"], ["b1"], ["stall", "a2"]]
    assert events[2]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert events[2]["Records"][0]["attributes"]["MessageGroupId"] == "A"


def test_dynamodb_stream_delivers_changes(stack: Devstack) -> None:
    """Given a stream handler bound to the records table, When an item is written, Then it gets the INSERT."""
    stack.client("dynamodb").put_item(TableName="pipeline-records", Item={"id": {"S": "r1"}, "n": {"N": "1"}})

    (event,) = invocations(stack, "changes", 1)
    (record,) = event["Records"]
    assert (record["eventSource"], record["eventName"]) == ("aws:dynamodb", "INSERT")
    assert record["dynamodb"]["NewImage"] == {"id": {"S": "r1"}, "n": {"N": "1"}}
    assert ":table/pipeline-records/stream/" in record["eventSourceARN"]


def test_kinesis_partial_failure_retries_from_the_failed_record_then_reports_it(stack: Devstack) -> None:
    """Given a Kinesis handler that reports b"bad" failed, one retry and an on-failure queue,
    When three records are put, Then the retry starts at "bad" and, retries used up, the failure record names it."""
    records = [{"Data": data, "PartitionKey": "p"} for data in (b"ok1", b"bad", b"ok2")]
    stack.client("kinesis").put_records(StreamName="pipeline-clicks", Records=records)

    events = invocations(stack, "clicks", 2)
    data = [[base64.b64decode(r["kinesis"]["data"]) for r in event["Records"]] for event in events]
    assert data == [[b"ok1", b"bad", b"ok2"], [b"bad", b"ok2"]]
    first = events[0]["Records"][0]
    assert (first["eventSource"], first["eventName"]) == ("aws:kinesis", "aws:kinesis:record")
    assert first["eventSourceARN"] == f"arn:aws:kinesis:{TEST_REGION}:123456789012:stream/pipeline-clicks"
    assert first["eventID"].startswith("shardId-")
    failures = queue_url(stack, "pipeline-click-failures")
    messages = stack.wait_until(lambda: stack.client("sqs").receive_message(QueueUrl=failures).get("Messages"))
    info = json.loads(messages[0]["Body"])["KinesisBatchInfo"]
    assert (info["batchSize"], info["startSequenceNumber"]) == (2, events[1]["Records"][0]["kinesis"]["sequenceNumber"])


def test_sns_publish_invokes_the_subscriber_with_lambdas_sns_event(stack: Devstack) -> None:
    """Given a handler on a topic the resources file does not define, When a message is published to it,
    Then the handler gets Lambda's SNS event."""
    sns = stack.client("sns")
    topic = sns.create_topic(Name="pipeline-alerts")["TopicArn"]
    attributes = {"level": {"DataType": "String", "StringValue": "high"}}
    sns.publish(TopicArn=topic, Message="disk full", Subject="alert", MessageAttributes=attributes)

    (event,) = invocations(stack, "alerts", 1)
    (record,) = event["Records"]
    assert (record["EventSource"], record["EventVersion"]) == ("aws:sns", "1.0")
    assert record["EventSubscriptionArn"].startswith(f"{topic}:")
    message = record["Sns"]
    assert (message["Type"], message["TopicArn"], message["Message"], message["Subject"]) == (
        "Notification",
        topic,
        "disk full",
        "alert",
    )
    assert message["MessageAttributes"] == {"level": {"Type": "String", "Value": "high"}}
    assert {"SigningCertUrl", "UnsubscribeUrl", "Signature", "Timestamp", "MessageId"} <= set(message)


def test_s3_notification_honours_prefix_and_suffix(stack: Devstack) -> None:
    """Given a handler on incoming/*.csv of a bucket, When three objects are put (only the last one matching),
    Then the handler gets one S3 event, for that object."""
    s3 = stack.client("s3")
    for key in ("other/a.csv", "incoming/b.txt", "incoming/c d.csv"):
        s3.put_object(Bucket="pipeline-inbox", Key=key, Body=b"1,2\n")

    (event,) = invocations(stack, "inbox", 1)
    (record,) = event["Records"]
    assert (record["eventSource"], record["eventName"], record["awsRegion"]) == (
        "aws:s3",
        "ObjectCreated:Put",
        TEST_REGION,
    )
    assert record["s3"]["bucket"]["name"] == "pipeline-inbox"
    assert (record["s3"]["object"]["key"], record["s3"]["object"]["size"]) == ("incoming/c+d.csv", 4)
    assert {"userIdentity", "requestParameters", "responseElements"} <= set(record)
    assert len(journal(stack, "inbox")) == 1  # the earlier, non-matching puts were never delivered


def test_put_events_reaches_the_handler_whose_pattern_matches(stack: Devstack) -> None:
    """Given an on_cw_event handler for source pipeline.tests / Ping, When two events are put (one matching),
    Then the handler gets the matching event, as EventBridge sends it; its rule is listed as chalice deploy names it."""
    entries = [
        {"Source": "elsewhere", "DetailType": "Ping", "Detail": json.dumps({"n": 0})},
        {"Source": "pipeline.tests", "DetailType": "Ping", "Detail": json.dumps({"n": 1})},
    ]
    stack.client("events").put_events(Entries=entries)

    (event,) = invocations(stack, "pings", 1)
    assert (event["source"], event["detail-type"], event["detail"]) == ("pipeline.tests", "Ping", {"n": 1})
    assert {"id", "version", "account", "time", "region", "resources"} <= set(event)
    rules = stack.client("events").list_rules(NamePrefix="pipeline-dev-pings")["Rules"]
    assert [rule["Name"] for rule in rules] == ["pipeline-dev-pings-event"]


def test_schedule_fires_on_demand(stack: Devstack) -> None:
    """Given a daily schedule, When it is triggered on demand, Then the handler gets a Scheduled Event."""
    assert stack.trigger("nightly").status == 200

    (event,) = invocations(stack, "nightly", 1)
    assert (event["detail-type"], event["source"]) == ("Scheduled Event", "aws.events")


def test_function_timeout_over_the_queue_visibility_is_refused_at_start(tmp_path: Path) -> None:
    """Given the pipeline app with the FIFO consumer's timeout raised above its queue's VisibilityTimeout,
    When devstack starts, Then it refuses with one line naming the function and the queue."""
    root = tmp_path / "pipeline"
    shutil.copytree(PIPELINE, root, ignore=shutil.ignore_patterns("__pycache__"))
    config_file = root / ".chalice" / "config.json"
    config = json.loads(config_file.read_text())
    config["stages"]["dev"]["lambda_functions"]["steps"]["lambda_timeout"] = 5
    config_file.write_text(json.dumps(config))

    with pytest.raises(DevstackError) as refused, running_devstack(Project.at(root), "dev", TEST_REGION):
        pass

    lines = [line for line in str(refused.value).splitlines() if "VisibilityTimeout" in line]
    assert len(lines) == 1
    assert "steps: its timeout (5 s" in lines[0]
    assert "queue pipeline-steps.fifo's VisibilityTimeout (2 s)" in lines[0]
