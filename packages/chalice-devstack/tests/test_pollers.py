"""devstack pollers against moto: SQS (partial failure, redrive, FIFO groups, visibility), streams, async relays.

Each test builds a tiny Chalice app of its own, so the pollers are tested apart from the
service's domain handlers (those are covered end to end in tests/e2e).
"""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from chalice.app import Chalice, Rate
from moto import mock_aws

from chalice_devstack import moto_hooks
from chalice_devstack.intrinsics import Scope, default_parameters
from chalice_devstack.pollers import (
    BucketMapping,
    Mappings,
    Pollers,
    QueueMapping,
    QueuePoller,
    RuleMapping,
    StreamMapping,
    StreamPoller,
    TopicMapping,
    TriggerError,
    check_visibility,
    discover,
    failed_item_ids,
)
from chalice_devstack.triggers.relay import RelayPoller
from chalice_devstack.triggers.sqs import FifoQueuePoller
from chalice_devstack.triggers.wakes import Wakes
from tests.conftest import TEST_REGION

PLACEHOLDER_STREAM = f"arn:aws:dynamodb:{TEST_REGION}:123456789012:table/placeholder/stream/1970-01-01T00:00:00.000"


@dataclass
class Result:
    """The shape of the function registry's InvocationResult that the pollers read."""

    ok: bool
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    throttled: bool = False


class AppInvoker:
    """Invokes the test app's handlers in-process, recording every event and turning raises into errors."""

    def __init__(self, app: Chalice) -> None:
        self.app = app
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def invoke(self, name_or_arn: str, event: dict[str, Any], trigger: str, items: Any = None) -> Result:
        with self.lock:
            self.events.append((name_or_arn, event))
        try:
            return Result(True, self.app.handler_map[name_or_arn](event, None))
        except Exception as error:
            return Result(False, None, type(error).__name__, str(error))

    def batches(self, name: str) -> list[list[dict[str, Any]]]:
        with self.lock:
            return [event["Records"] for function, event in self.events if function == name]


LONGER_THAN_ANY_TEST = 600.0  # a safety poll that never comes within a test: only a wake-up delivers


def wakes_without_safety_poll() -> Wakes:
    """Wake-ups fed by moto with a safety poll longer than any test: only a wake-up delivers."""
    wakes = Wakes(safety_poll=LONGER_THAN_ANY_TEST)
    moto_hooks.install(wakes.notify)  # the next test's `clients` fixture puts the process's own back
    return wakes


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


@pytest.fixture
def clients() -> Iterator[Callable[[str], Any]]:
    """Given: a fresh moto AWS (telling the pollers what changes, as devstack's endpoint does) and a client factory."""
    moto_hooks.install()
    with mock_aws():
        yield lambda service: boto3.client(service, region_name=TEST_REGION)


def jobs_app() -> Chalice:
    """An app whose `handle_jobs` takes the `jobs` queue's batches and does nothing."""
    app = Chalice(app_name="svc")

    @app.on_sqs_message(queue="jobs")
    def handle_jobs(event: Any) -> None: ...

    return app


def make_queue(clients: Callable[[str], Any], name: str, max_receives: int = 2) -> tuple[str, str, str]:
    """A queue (visibility 1 s) with a DLQ after max_receives; returns (queue url, queue arn, dlq url)."""
    sqs = clients("sqs")
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives})
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1", "RedrivePolicy": redrive})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn, dlq_url


def make_stream_table(clients: Callable[[str], Any]) -> str:
    """A table with a NEW_AND_OLD_IMAGES stream; returns the stream ARN."""
    description = clients("dynamodb").create_table(
        TableName="events",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )["TableDescription"]
    return str(description["LatestStreamArn"])


def put_items(clients: Callable[[str], Any], *keys: str) -> None:
    for key in keys:
        clients("dynamodb").put_item(TableName="events", Item={"pk": {"S": key}, "blob": {"B": b"\x00\x01"}})


def read_stream(clients: Callable[[str], Any], stream_arn: str) -> tuple[str, list[dict[str, Any]]]:
    """Every record on the stream, Lambda-shaped, and the shard id."""
    from chalice_devstack.pollers import stream_record

    streams = clients("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return shard, [stream_record(record, stream_arn, TEST_REGION) for record in records]


def keys_of(records: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["Keys"]["pk"]["S"] for record in records]


# ---------------------------------------------------------------- discovery


def test_discover_reads_app_sources_and_resources_patches() -> None:
    # Given: an app with a queue, a stream and a schedule handler, and a resources.yaml patch for each trigger
    app = Chalice(app_name="svc")

    @app.on_sqs_message(queue="svc-dev-jobs", batch_size=5, maximum_batching_window_in_seconds=2)
    def handle_jobs(event: Any) -> None: ...

    @app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM, batch_size=7)
    def handle_changes(event: Any) -> None: ...

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def sweep(event: Any) -> None: ...

    template = {
        "Resources": {
            "HandleJobs": {
                "Properties": {
                    "Events": {
                        "HandleJobsSqsEventSource": {
                            "Properties": {
                                "Queue": {"Fn::Sub": "${JobsQueue.Arn}"},
                                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                            }
                        }
                    }
                }
            },
            "HandleChanges": {
                "Properties": {
                    "Events": {
                        "HandleChangesDynamodbEventSource": {
                            "Properties": {
                                "Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
                                "StartingPosition": "TRIM_HORIZON",
                                "BisectBatchOnFunctionError": True,
                                "MaximumRetryAttempts": 2,
                                "MaximumRecordAgeInSeconds": 60,
                                "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Dlq", "Arn"]}}},
                            }
                        }
                    }
                }
            },
        }
    }
    scope = Scope(
        default_parameters(template, "dev", TEST_REGION, "svc"),
        {"JobsQueue": {"Arn": "arn:jobs"}, "Table": {"StreamArn": "arn:stream"}, "Dlq": {"Arn": "arn:dlq"}},
    )

    # When
    mappings = discover(app, template, scope, "dev")

    # Then: the patch wins where it says something; the decorator gives the rest
    (queue,) = mappings.queues
    assert (queue.function, queue.queue_arn) == ("handle_jobs", "arn:jobs")
    assert (queue.batch_size, queue.batching_window) == (5, 2)
    assert queue.report_item_failures
    (stream,) = mappings.streams
    assert (stream.stream_arn, stream.batch_size, stream.starting_position) == ("arn:stream", 7, "TRIM_HORIZON")
    assert (stream.bisect_on_error, stream.max_retry_attempts, stream.max_record_age) == (True, 2, 60)
    assert stream.on_failure_arn == "arn:dlq"
    assert not stream.report_item_failures
    (schedule,) = mappings.schedules
    assert schedule.expression == "rate(5 minutes)"
    assert schedule.rule_arn.endswith(":rule/svc-dev-sweep-event")
    assert schedule.function_arn.endswith(":function:svc-dev-sweep")
    # And a test suite's cap (max_batching_window) shortens the windows and nothing else
    capped = mappings.with_batching_window_cap(0.5)
    assert [m.batching_window for m in capped.queues + capped.streams] == [0.5, min(stream.batching_window, 0.5)]
    assert capped.queues[0].batch_size == 5 and mappings.with_batching_window_cap(None) is mappings


def test_unpatched_queue_trigger_uses_the_decorator_queue_and_fails_whole_batches() -> None:
    # Given: a queue handler with no resources.yaml patch
    app = Chalice(app_name="svc")

    @app.on_sqs_message(queue="plain")
    def handle_plain(event: Any) -> None: ...

    template: dict[str, Any] = {"Resources": {}}

    # When
    (queue,) = discover(app, template, Scope(default_parameters(template, "dev", TEST_REGION, "svc"), {}), "dev").queues

    # Then
    assert queue.queue_arn == f"arn:aws:sqs:{TEST_REGION}:123456789012:plain"
    assert not queue.report_item_failures


@pytest.mark.parametrize(
    ("result", "report", "expected"),
    [
        (Result(False, error_type="ValueError"), True, None),
        (Result(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), True, {"b"}),
        (Result(True, json.dumps({"batchItemFailures": [{"itemIdentifier": "b"}]}).encode()), True, {"b"}),
        (Result(True, {"batchItemFailures": [{"itemIdentifier": "b"}]}), False, set()),
        (Result(True, {"batchItemFailures": []}), True, set()),
        (Result(True, None), True, set()),
        (Result(True, {"batchItemFailures": [{"itemIdentifier": "zzz"}]}), True, None),
        (Result(True, {"batchItemFailures": [{"itemIdentifier": ""}]}), True, None),
    ],
)
def test_batch_responses_read_like_lambda(result: Result, report: bool, expected: set[str] | None) -> None:
    # Given / When / Then: None = the whole batch failed
    assert failed_item_ids(result, ["a", "b", "c"], report) == expected


# ---------------------------------------------------------------- SQS


def test_sqs_partial_batch_failure_deletes_successes_and_redrives_the_poison_message(
    clients: Callable[[str], Any],
) -> None:
    # Given: a queue handler reporting item failures, a queue with a DLQ after 2 receives, and the pollers running
    app = Chalice(app_name="svc")

    @app.on_sqs_message(queue="jobs", batch_size=10)
    def handle_jobs(event: Any) -> dict[str, Any]:
        failed = [{"itemIdentifier": r.to_dict()["messageId"]} for r in event if r.body == "poison"]
        return {"batchItemFailures": failed}

    url, arn, dlq_url = make_queue(clients, "jobs", max_receives=2)
    invoker = AppInvoker(app)
    mapping = QueueMapping("handle_jobs", "arn:fn", arn, 10, 0, report_item_failures=True, concurrency=1)
    # A safety poll longer than the test: the poison message comes back because the poller wakes at its visibility end.
    pollers = Pollers(Mappings(queues=[mapping]), invoker, clients, TEST_REGION, wakes_without_safety_poll())
    pollers.start()
    try:
        # When: two good messages and a poison one are sent
        sqs = clients("sqs")
        for body in ("one", "poison", "two"):
            sqs.send_message(
                QueueUrl=url, MessageBody=body, MessageAttributes={"kind": {"DataType": "String", "StringValue": body}}
            )

        # Then: the poison message lands in the DLQ once its receives are used up
        def dlq_depth() -> int:
            attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["ApproximateNumberOfMessages"])
            return int(attributes["Attributes"]["ApproximateNumberOfMessages"])

        wait_until(lambda: dlq_depth() == 1, timeout=8)
    finally:
        pollers.stop()
    bodies = [record["body"] for batch in invoker.batches("handle_jobs") for record in batch]
    assert sorted(b for b in bodies if b != "poison") == ["one", "two"]  # each good one exactly once
    assert bodies.count("poison") == 2
    poison = [r for batch in invoker.batches("handle_jobs") for r in batch if r["body"] == "poison"]
    assert [r["attributes"]["ApproximateReceiveCount"] for r in poison] == ["1", "2"]
    assert poison[0]["messageAttributes"]["kind"] == {
        "stringValue": "poison",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert (poison[0]["eventSourceARN"], poison[0]["awsRegion"], poison[0]["eventSource"]) == (
        arn,
        TEST_REGION,
        "aws:sqs",
    )
    depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    assert depth["Attributes"]["ApproximateNumberOfMessages"] == "0"


def test_sqs_error_without_partial_responses_keeps_the_whole_batch(clients: Callable[[str], Any]) -> None:
    # Given: a handler that raises, on a mapping without ReportBatchItemFailures
    app = Chalice(app_name="svc")

    @app.on_sqs_message(queue="jobs")
    def handle_jobs(event: Any) -> None:
        raise RuntimeError("boom")

    url, arn, _ = make_queue(clients, "jobs", max_receives=5)
    sqs = clients("sqs")
    for body in ("a", "b"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    poller = QueuePoller(
        QueueMapping("handle_jobs", "arn:fn", arn, 10, 0, False), AppInvoker(app), clients, TEST_REGION
    )
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]

    # When
    failed = poller.deliver(url, messages)

    # Then: nothing was deleted; both come back after the visibility timeout
    assert failed is None
    time.sleep(1.1)
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    assert sorted(m["Body"] for m in again["Messages"]) == ["a", "b"]


def test_sqs_batching_window_gathers_messages_into_one_batch(clients: Callable[[str], Any]) -> None:
    # Given: a mapping with batch size 3 and a 1 s batching window
    app = jobs_app()
    url, arn, _ = make_queue(clients, "jobs")
    invoker = AppInvoker(app)
    mapping = QueueMapping("handle_jobs", "arn:fn", arn, 3, 1.0, False, concurrency=1)
    pollers = Pollers(Mappings(queues=[mapping]), invoker, clients, TEST_REGION)
    pollers.start()
    try:
        # When: three messages arrive 0.2 s apart
        sqs = clients("sqs")
        for body in ("a", "b", "c"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
            time.sleep(0.2)
        wait_until(lambda: sum(len(b) for b in invoker.batches("handle_jobs")) == 3)
    finally:
        pollers.stop()

    # Then: one invocation with all three
    assert [[r["body"] for r in batch] for batch in invoker.batches("handle_jobs")] == [["a", "b", "c"]]


class CountingClients:
    """The clients fixture's factory, counting each client's calls by operation (to see a poller go idle)."""

    def __init__(self, clients: Callable[[str], Any]) -> None:
        self.clients, self.calls = clients, Counter[str]()

    def __call__(self, service: str) -> Any:
        client, calls = self.clients(service), self.calls

        class Counted:
            def __getattr__(self, name: str) -> Any:
                calls[name] += 1
                return getattr(client, name)

        return Counted()


def idle_pollers(clients: Callable[[str], Any], mappings: Mappings, invoker: Any, first_read: str) -> Pollers:
    """Pollers started with a safety poll longer than the test, once each has made its first read (now asleep)."""
    counting = CountingClients(clients)
    pollers = Pollers(mappings, invoker, counting, TEST_REGION, wakes_without_safety_poll())
    pollers.start()
    wait_until(lambda: counting.calls[first_read] >= len(pollers.pollers))
    return pollers


def test_a_send_wakes_the_queue_poller_without_waiting_for_the_safety_poll(clients: Callable[[str], Any]) -> None:
    # Given: a queue poller that found its queue empty and sleeps, with a safety poll longer than the test
    app = jobs_app()
    url, arn, _ = make_queue(clients, "jobs")
    invoker = AppInvoker(app)
    mapping = QueueMapping("handle_jobs", "arn:fn", arn, 10, 0, False, concurrency=2)
    pollers = idle_pollers(clients, Mappings(queues=[mapping]), invoker, "receive_message")
    try:
        # When: a message is sent, and one with a delay
        clients("sqs").send_message(QueueUrl=url, MessageBody="now")
        clients("sqs").send_message(QueueUrl=url, MessageBody="later", DelaySeconds=1)

        # Then: both reach the handler: the send woke the poller, the delay's end woke it again
        wait_until(lambda: sum(len(b) for b in invoker.batches("handle_jobs")) == 2)
    finally:
        pollers.stop()
    assert [r["body"] for batch in invoker.batches("handle_jobs") for r in batch] == ["now", "later"]


def test_a_write_wakes_the_stream_poller_without_waiting_for_the_safety_poll(clients: Callable[[str], Any]) -> None:
    # Given: a stream poller that read its shard, found nothing and sleeps longer than the test
    app, seen = stream_app()
    stream_arn = make_stream_table(clients)
    mapping = StreamMapping("handle_changes", "arn:fn", stream_arn, 100, 0, "LATEST")
    pollers = idle_pollers(clients, Mappings(streams=[mapping]), AppInvoker(app), "get_records")
    try:
        # When: an item is written, then another in a transaction
        put_items(clients, "a")
        clients("dynamodb").transact_write_items(
            TransactItems=[{"Put": {"TableName": "events", "Item": {"pk": {"S": "b"}}}}]
        )

        # Then: both reach the handler
        wait_until(lambda: sum(len(keys) for keys in seen) == 2)
    finally:
        pollers.stop()
    assert [key for keys in seen for key in keys] == ["a", "b"]


# ---------------------------------------------------------------- DynamoDB streams


def stream_app() -> tuple[Chalice, list[list[str]]]:
    """An app whose stream handler fails any batch containing a 'poison' key; returns it and the keys it saw."""
    app = Chalice(app_name="svc")
    seen: list[list[str]] = []

    @app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM)
    def handle_changes(event: Any) -> None:
        keys = [record.keys["pk"]["S"] for record in event]
        seen.append(keys)
        if any(key.startswith("poison") for key in keys):
            raise ValueError("poison in batch")

    return app, seen


def test_stream_records_reach_the_handler_in_order_lambda_shaped(clients: Callable[[str], Any]) -> None:
    # Given: the pollers started on a table's stream at LATEST
    app, seen = stream_app()
    stream_arn = make_stream_table(clients)
    put_items(clients, "before")
    invoker = AppInvoker(app)
    mapping = StreamMapping("handle_changes", "arn:fn", stream_arn, 100, 0, "LATEST")
    pollers = Pollers(Mappings(streams=[mapping]), invoker, clients, TEST_REGION)
    pollers.start()
    try:
        time.sleep(0.2)  # let the poller take its LATEST position

        # When: three items are written
        put_items(clients, "a", "b", "c")
        wait_until(lambda: sum(len(keys) for keys in seen) >= 3)
    finally:
        pollers.stop()

    # Then: only the writes after start, in order, shaped as Lambda hands them over
    assert [key for keys in seen for key in keys] == ["a", "b", "c"]
    record = invoker.batches("handle_changes")[0][0]
    assert record["eventName"] == "INSERT"
    assert (record["eventSourceARN"], record["awsRegion"]) == (stream_arn, TEST_REGION)
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    json.dumps(invoker.events)  # every event is plain JSON, as over the wire


def test_stream_bisects_to_isolate_the_poison_record_and_sends_it_on_failure(clients: Callable[[str], Any]) -> None:
    # Given: bisect on error, no retries, an SQS on-failure destination
    app, seen = stream_app()
    stream_arn = make_stream_table(clients)
    put_items(clients, "a", "b", "poison", "d")
    shard, records = read_stream(clients, stream_arn)
    sqs = clients("sqs")
    destination_url = sqs.create_queue(QueueName="stream-failures")["QueueUrl"]
    destination = sqs.get_queue_attributes(QueueUrl=destination_url, AttributeNames=["QueueArn"])
    mapping = StreamMapping(
        "handle_changes",
        "arn:fn",
        stream_arn,
        4,
        0,
        "TRIM_HORIZON",
        bisect_on_error=True,
        max_retry_attempts=0,
        on_failure_arn=destination["Attributes"]["QueueArn"],
    )

    # When
    StreamPoller(mapping, AppInvoker(app), clients, TEST_REGION).deliver(records, shard, threading.Event())

    # Then: halves then quarters; every good record processed, the poison one sent on
    assert seen == [["a", "b", "poison", "d"], ["a", "b"], ["poison", "d"], ["poison"], ["d"]]
    (message,) = sqs.receive_message(QueueUrl=destination_url, MaxNumberOfMessages=10)["Messages"]
    failure = json.loads(message["Body"])
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = failure["DDBStreamBatchInfo"]
    assert (info["batchSize"], info["shardId"], info["streamArn"]) == (1, shard, stream_arn)
    assert info["startSequenceNumber"] == records[2]["dynamodb"]["SequenceNumber"]


def test_stream_retries_a_failing_batch_up_to_the_maximum_then_discards_it(clients: Callable[[str], Any]) -> None:
    # Given: no bisect, two retries, no destination
    app, seen = stream_app()
    stream_arn = make_stream_table(clients)
    put_items(clients, "a", "poison")
    shard, records = read_stream(clients, stream_arn)
    mapping = StreamMapping("handle_changes", "arn:fn", stream_arn, 10, 0, "TRIM_HORIZON", max_retry_attempts=2)

    # When
    StreamPoller(mapping, AppInvoker(app), clients, TEST_REGION).deliver(records, shard, threading.Event())

    # Then: the first try plus two retries of the whole batch
    assert seen == [["a", "poison"]] * 3


def test_stream_partial_failure_resumes_from_the_first_failed_sequence_number(clients: Callable[[str], Any]) -> None:
    # Given: a handler that reports record "b" failed on its first call only
    app = Chalice(app_name="svc")
    seen: list[list[str]] = []

    @app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM)
    def handle_changes(event: Any) -> dict[str, Any]:
        records = [record.to_dict() for record in event]
        seen.append([r["dynamodb"]["Keys"]["pk"]["S"] for r in records])
        failed = [r["dynamodb"]["SequenceNumber"] for r in records if r["dynamodb"]["Keys"]["pk"]["S"] == "b"]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failed] if len(seen) == 1 else []}

    stream_arn = make_stream_table(clients)
    put_items(clients, "a", "b", "c")
    shard, records = read_stream(clients, stream_arn)
    mapping = StreamMapping("handle_changes", "arn:fn", stream_arn, 10, 0, "TRIM_HORIZON", report_item_failures=True)

    # When
    StreamPoller(mapping, AppInvoker(app), clients, TEST_REGION).deliver(records, shard, threading.Event())

    # Then: the retry starts at "b", not at "a"
    assert seen == [["a", "b", "c"], ["b", "c"]]


def test_stream_records_older_than_the_maximum_age_are_not_delivered(clients: Callable[[str], Any]) -> None:
    # Given: a one-minute maximum record age and a record written two minutes ago
    app, seen = stream_app()
    stream_arn = make_stream_table(clients)
    put_items(clients, "old", "new")
    shard, records = read_stream(clients, stream_arn)
    records[0]["dynamodb"]["ApproximateCreationDateTime"] = int(time.time()) - 120
    mapping = StreamMapping("handle_changes", "arn:fn", stream_arn, 10, 0, "TRIM_HORIZON", max_record_age=60)

    # When
    StreamPoller(mapping, AppInvoker(app), clients, TEST_REGION).deliver(records, shard, threading.Event())

    # Then
    assert seen == [["new"]]


# ---------------------------------------------------------------- schedules and shutdown


def test_schedule_fires_on_demand_with_an_eventbridge_event() -> None:
    # Given: an app with a scheduled function and its pollers
    app = Chalice(app_name="svc")

    @app.schedule(Rate(1, unit=Rate.DAYS))
    def nightly_report(event: Any) -> dict[str, Any]:
        return {"fired": event.to_dict()["detail-type"]}

    template: dict[str, Any] = {"Resources": {}}
    mappings = discover(app, template, Scope(default_parameters(template, "dev", TEST_REGION, "svc"), {}), "dev")
    invoker = AppInvoker(app)
    pollers = Pollers(mappings, invoker, lambda service: None, TEST_REGION)

    # When: fired by name, and again by its logical id
    result = pollers.fire("nightly_report")
    pollers.fire("NightlyReport")

    # Then
    assert result.ok and result.payload == {"fired": "Scheduled Event"}
    event = invoker.events[0][1]
    assert (event["source"], event["region"]) == ("aws.events", TEST_REGION)
    assert event["resources"] == [f"arn:aws:events:{TEST_REGION}:123456789012:rule/svc-dev-nightly_report-event"]
    assert len(invoker.events) == 2
    with pytest.raises(KeyError, match="nightly_report"):
        pollers.fire("no_such_schedule")


def test_pollers_stop_within_a_second(clients: Callable[[str], Any]) -> None:
    # Given: queue, stream and schedule pollers, all idle
    app, _ = stream_app()
    _, arn, _ = make_queue(clients, "jobs")
    stream_arn = make_stream_table(clients)
    mappings = Mappings(
        queues=[QueueMapping("handle_changes", "arn:fn", arn, 10, 0, False)],
        streams=[StreamMapping("handle_changes", "arn:fn", stream_arn, 10, 0, "LATEST")],
    )
    pollers = Pollers(mappings, AppInvoker(app), clients, TEST_REGION)
    pollers.start()
    time.sleep(0.3)

    # When
    started = time.monotonic()
    pollers.stop()

    # Then
    assert time.monotonic() - started < 1.05
    assert not any(thread.is_alive() for thread in pollers._threads)


# ---------------------------------------------------------------- more sources, FIFO and visibility


def test_discover_maps_kinesis_sns_s3_and_eventbridge_sources_as_chalice_deploys_them() -> None:
    """Given an app with a Kinesis, an SNS, an S3 and an EventBridge handler, When discovered,
    Then each gets the stream, topic, bucket notification or rule `chalice deploy` would create."""
    app = Chalice(app_name="svc")

    @app.on_kinesis_record(stream="clicks", batch_size=3, starting_position="TRIM_HORIZON")
    def on_clicks(event: Any) -> None: ...

    @app.on_sns_message(topic="alerts")
    def on_alerts(event: Any) -> None: ...

    @app.on_s3_event(bucket="inbox", suffix=".csv")
    def on_inbox(event: Any) -> None: ...

    @app.on_cw_event({"source": ["svc"]})
    def on_pings(event: Any) -> None: ...

    template: dict[str, Any] = {"Resources": {}}

    mappings = discover(app, template, Scope(default_parameters(template, "dev", TEST_REGION, "svc"), {}), "dev")

    (stream,) = mappings.streams
    assert (stream.stream_arn, stream.batch_size) == (f"arn:aws:kinesis:{TEST_REGION}:123456789012:stream/clicks", 3)
    topic, bucket, rule = mappings.relays
    assert isinstance(topic, TopicMapping) and topic.topic_arn == f"arn:aws:sns:{TEST_REGION}:123456789012:alerts"
    assert isinstance(bucket, BucketMapping) and (bucket.events, bucket.suffix) == (("s3:ObjectCreated:*",), ".csv")
    assert bucket.notification("arn:q")["Filter"] == {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}}
    assert isinstance(rule, RuleMapping) and (rule.rule_name, rule.pattern) == (
        "svc-dev-on_pings-event",
        {"source": ["svc"]},
    )


def test_fifo_poller_holds_back_messages_of_a_group_with_a_batch_in_flight(clients: Callable[[str], Any]) -> None:
    """Given group A busy with a batch (as when moto lets two receives split a group),
    When a receive returns messages of groups A and B, Then only B's are claimed and A's go back to the queue."""
    sqs = clients("sqs")
    url = sqs.create_queue(
        QueueName="steps.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for body, group in (("a2", "A"), ("b1", "B")):
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group)
    poller = FifoQueuePoller(QueueMapping("steps", "arn:fn", arn, 10, 0, False), AppInvoker(Chalice("x")), clients, "r")
    poller.groups.claim([{"Attributes": {"MessageGroupId": "A"}}])
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])

    claimed = poller.claim(url, received["Messages"])

    assert [message["Body"] for message in claimed] == ["b1"]
    again = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [message["Body"] for message in again] == ["a2"]


def test_a_function_timeout_longer_than_its_queue_visibility_is_refused(clients: Callable[[str], Any]) -> None:
    """Given a queue hiding messages for 1 s and a consumer with a 60 s timeout, When checked,
    Then AWS's refusal comes as one line naming both."""
    _, arn, _ = make_queue(clients, "jobs")
    mapping = QueueMapping("handle_jobs", "arn:fn", arn, 10, 0, False)

    with pytest.raises(TriggerError) as refused:
        check_visibility([mapping], lambda function: 60, clients("sqs"))

    assert "handle_jobs: its timeout (60 s" in str(refused.value)
    assert "queue jobs's VisibilityTimeout (1 s)" in str(refused.value)
    check_visibility([mapping], lambda function: 1, clients("sqs"))  # equal is accepted


def test_a_consumer_of_a_missing_queue_is_refused(clients: Callable[[str], Any]) -> None:
    """Given a consumer whose queue was never created, When checked, Then one line names the function, queue and fix."""
    mapping = QueueMapping("handle_jobs", "arn:fn", f"arn:aws:sqs:{TEST_REGION}:123456789012:nowhere", 10, 0, False)

    with pytest.raises(TriggerError) as refused:
        check_visibility([mapping], lambda function: 1, clients("sqs"))

    assert str(refused.value).startswith("handle_jobs: queue nowhere does not exist;")
    assert "AWS::SQS::Queue in the resources file" in str(refused.value)


def test_async_trigger_retries_a_failed_event_twice_then_discards_it(clients: Callable[[str], Any]) -> None:
    """Given an SNS handler that always fails, When a message is published,
    Then it is invoked three times (Lambda's async retries), and the event is then gone."""
    app = Chalice(app_name="svc")

    @app.on_sns_message(topic="alerts")
    def on_alerts(event: Any) -> None:
        raise RuntimeError("down")

    invoker = AppInvoker(app)
    poller = RelayPoller(
        TopicMapping("on_alerts", f"arn:aws:sns:{TEST_REGION}:123456789012:alerts"), invoker, clients, TEST_REGION
    )
    poller.prepare()
    clients("sns").publish(TopicArn=f"arn:aws:sns:{TEST_REGION}:123456789012:alerts", Message="m")

    outcomes = []
    for _ in range(3):
        message = poller.sqs.receive_message(
            QueueUrl=poller.queue_url, WaitTimeSeconds=2, MessageSystemAttributeNames=["All"]
        )
        outcomes.append(poller.deliver(message["Messages"][0]))

    assert outcomes == [False, False, True]
    assert [event["Records"][0]["Sns"]["Message"] for _, event in invoker.events] == ["m", "m", "m"]
    assert "Messages" not in poller.sqs.receive_message(QueueUrl=poller.queue_url, WaitTimeSeconds=0)
