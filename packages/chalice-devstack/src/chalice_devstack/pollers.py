"""Event-source pollers that behave like Lambda's event source mappings, offline.

What to poll comes from the Chalice app's registered event sources (`app.event_sources`)
plus the mapping settings Chalice cannot express, read from the same partial resource
patches in infra/resources.yaml that `chalice package --merge-template` merges
(`Resources.<Fn>.Properties.Events.<Fn><Kind>EventSource.Properties`). A handler added
later is polled with no devstack change. Every poller is a daemon thread that waits at
most a second at a time, so `Pollers.stop()` returns within a second.
"""

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from chalice.app import Chalice, DynamoDBEventConfig, ScheduledEventConfig, SQSEventConfig
from chalice.utils import to_cfn_resource_name

from chalice_devstack.intrinsics import Scope, resolve
from chalice_devstack.project import LOCAL_ACCOUNT_ID
from chalice_devstack.schedules import Schedule, parse

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 1  # SQS WaitTimeSeconds: bounded so shutdown is never later than a second
STREAM_POLL_SECONDS = 0.05  # DynamoDB streams have no long poll; Lambda polls each shard 4x/s
SHARD_DISCOVERY_SECONDS = 10.0
SQS_CONCURRENCY = 2  # concurrent batches per queue unless ScalingConfig.MaximumConcurrency says otherwise
RETRY_BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0)  # stream batch retries; Lambda also backs off, we keep it short


class Outcome(Protocol):
    """What the function registry returns for one invocation (an InvocationResult)."""

    ok: bool
    payload: Any
    error_type: str | None
    error_message: str | None


class Invoker(Protocol):
    """Runs a function of the Chalice app by name or ARN (devstack.functions.FunctionRegistry)."""

    def invoke(self, name_or_arn: str, event: dict[str, Any], trigger: str) -> Outcome:
        """Invoke synchronously and return the outcome."""
        ...


Clients = Callable[[str], Any]


@dataclass(frozen=True)
class QueueMapping:
    """An SQS trigger: Chalice's on_sqs_message plus its resources.yaml patch."""

    function: str
    function_arn: str
    queue_arn: str
    batch_size: int
    batching_window: float
    report_item_failures: bool
    concurrency: int = SQS_CONCURRENCY


@dataclass(frozen=True)
class StreamMapping:
    """A DynamoDB stream trigger: Chalice's on_dynamodb_record plus its resources.yaml patch."""

    function: str
    function_arn: str
    stream_arn: str
    batch_size: int
    batching_window: float
    starting_position: str
    report_item_failures: bool = False
    bisect_on_error: bool = False
    max_retry_attempts: int = -1  # -1: retry until the record expires, as on AWS
    max_record_age: int = -1  # seconds; -1: records never expire
    on_failure_arn: str | None = None


@dataclass(frozen=True)
class ScheduleMapping:
    """A scheduled function: Chalice's schedule() expression and the EventBridge rule it becomes."""

    function: str
    function_arn: str
    logical_id: str
    expression: str
    rule_arn: str


@dataclass(frozen=True)
class Mappings:
    """Every event source of the app that devstack polls."""

    queues: list[QueueMapping] = field(default_factory=list)
    streams: list[StreamMapping] = field(default_factory=list)
    schedules: list[ScheduleMapping] = field(default_factory=list)


def mapping_patch(template: dict[str, Any], logical_id: str, event_key: str, scope: Scope) -> dict[str, Any]:
    """The resolved `Properties` that resources.yaml merges into one function trigger ({} when none)."""
    function = template.get("Resources", {}).get(logical_id, {})
    patch = function.get("Properties", {}).get("Events", {}).get(event_key, {}).get("Properties", {})
    resolved: dict[str, Any] = resolve(patch, scope)
    return resolved


def discover(app: Chalice, template: dict[str, Any], scope: Scope, stage: str) -> Mappings:
    """Read the app's SQS, DynamoDB stream and schedule sources and their resources.yaml settings."""
    region = scope.parameters["AWS::Region"]
    mappings = Mappings()
    for source in app.event_sources:
        logical_id = to_cfn_resource_name(source.name)
        function_arn = f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{app.app_name}-{stage}-{source.name}"
        if isinstance(source, SQSEventConfig):
            patch = mapping_patch(template, logical_id, f"{logical_id}SqsEventSource", scope)
            queue_arn = source.queue_arn or f"arn:aws:sqs:{region}:{LOCAL_ACCOUNT_ID}:{source.queue}"
            limit = patch.get("ScalingConfig", {}).get("MaximumConcurrency") or source.maximum_concurrency
            mappings.queues.append(
                QueueMapping(
                    function=source.name,
                    function_arn=function_arn,
                    queue_arn=patch.get("Queue", queue_arn),
                    batch_size=int(patch.get("BatchSize", source.batch_size)),
                    batching_window=float(
                        patch.get("MaximumBatchingWindowInSeconds", source.maximum_batching_window_in_seconds)
                    ),
                    report_item_failures="ReportBatchItemFailures" in patch.get("FunctionResponseTypes", []),
                    concurrency=min(int(limit), SQS_CONCURRENCY) if limit else SQS_CONCURRENCY,
                )
            )
        elif isinstance(source, DynamoDBEventConfig):
            patch = mapping_patch(template, logical_id, f"{logical_id}DynamodbEventSource", scope)
            destination = patch.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            mappings.streams.append(
                StreamMapping(
                    function=source.name,
                    function_arn=function_arn,
                    stream_arn=patch.get("Stream", source.stream_arn),
                    batch_size=int(patch.get("BatchSize", source.batch_size)),
                    batching_window=float(
                        patch.get("MaximumBatchingWindowInSeconds", source.maximum_batching_window_in_seconds)
                    ),
                    starting_position=patch.get("StartingPosition", source.starting_position),
                    report_item_failures="ReportBatchItemFailures" in patch.get("FunctionResponseTypes", []),
                    bisect_on_error=bool(patch.get("BisectBatchOnFunctionError", False)),
                    max_retry_attempts=int(patch.get("MaximumRetryAttempts", -1)),
                    max_record_age=int(patch.get("MaximumRecordAgeInSeconds", -1)),
                    on_failure_arn=destination,
                )
            )
        elif isinstance(source, ScheduledEventConfig):
            expression = source.schedule_expression
            text = expression if isinstance(expression, str) else expression.to_string()
            rule = f"{app.app_name}-{stage}-{source.name}-event"
            mappings.schedules.append(
                ScheduleMapping(
                    function=source.name,
                    function_arn=function_arn,
                    logical_id=logical_id,
                    expression=text,
                    rule_arn=f"arn:aws:events:{region}:{LOCAL_ACCOUNT_ID}:rule/{rule}",
                )
            )
        else:
            log.info("devstack does not emulate %s (%s); skipped", type(source).__name__, source.name)
    return mappings


# ---------------------------------------------------------------- Lambda-shaped events


def sqs_record(message: dict[str, Any], queue_arn: str, region: str) -> dict[str, Any]:
    """One SQS message as Lambda hands it to a function."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _lambda_message_attribute(value) for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """SQS API attribute (StringValue/BinaryValue) -> Lambda's camelCase form, binary as base64."""
    shaped: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return shaped


def stream_record(record: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """One DynamoDB stream record (as boto3 returns it) as Lambda hands it to a function."""
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    for image in ("Keys", "NewImage", "OldImage"):
        if image in dynamodb:
            dynamodb[image] = {name: _json_attribute(value) for name, value in dynamodb[image].items()}
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


def _json_attribute(value: Any) -> Any:
    """A DynamoDB AttributeValue with boto3's bytes turned back into base64 text, as in Lambda's JSON."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {key: _json_attribute(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_attribute(item) for item in value]
    return value


def scheduled_event(mapping: ScheduleMapping, region: str, when: datetime) -> dict[str, Any]:
    """The EventBridge event a schedule rule sends its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [mapping.rule_arn],
        "detail": {},
    }


def failed_item_ids(outcome: Outcome, item_ids: Iterable[str], report_item_failures: bool) -> set[str] | None:
    """The items a batch response failed: None for the whole batch, an empty set for none.

    As on AWS: an error fails the batch; without ReportBatchItemFailures any successful
    response is a full success; a failure naming no item or an unknown item fails the batch.
    """
    if not outcome.ok:
        return None
    if not report_item_failures:
        return set()
    payload = outcome.payload
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload) if payload else None
        except ValueError:
            return set()
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if not failures:
        return set()
    known = set(item_ids)
    failed = {entry.get("itemIdentifier") if isinstance(entry, dict) else None for entry in failures}
    if not failed <= known:
        return None
    return {str(item) for item in failed}


# ---------------------------------------------------------------- pollers


class _Poller(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None:
        """Poll until stop is set."""
        ...


class QueuePoller:
    """One concurrent consumer of an SQS trigger: receive, invoke, delete what succeeded."""

    def __init__(self, mapping: QueueMapping, invoker: Invoker, clients: Clients, region: str, worker: int = 0):
        self.mapping, self.invoker, self.region = mapping, invoker, region
        self.sqs = clients("sqs")
        self.queue_name = mapping.queue_arn.rsplit(":", 1)[-1]
        self.name = f"sqs:{self.queue_name}->{mapping.function}#{worker}"

    def run(self, stop: threading.Event) -> None:
        """Long-poll the queue (at most a second per call) and deliver batches until stopped."""
        queue_url = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        while not stop.is_set():
            messages = self._gather(queue_url, stop)
            if messages:
                self.deliver(queue_url, messages)

    def _receive(self, queue_url: str, count: int, wait: int) -> list[dict[str, Any]]:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=max(1, min(10, count)),
            WaitTimeSeconds=wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages: list[dict[str, Any]] = response.get("Messages", [])
        return messages

    def _gather(self, queue_url: str, stop: threading.Event) -> list[dict[str, Any]]:
        """One batch: the first receive, then more until the batch is full or the batching window ends."""
        batch_size = self.mapping.batch_size
        messages = self._receive(queue_url, batch_size, LONG_POLL_SECONDS)
        deadline = time.monotonic() + self.mapping.batching_window
        while messages and len(messages) < batch_size and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            more = self._receive(queue_url, batch_size - len(messages), 1 if left >= 1 else 0)
            messages += more
            if not more:
                stop.wait(min(left, 0.05))
        return messages

    def deliver(self, queue_url: str, messages: list[dict[str, Any]]) -> set[str] | None:
        """Invoke the function with one batch; delete the messages it did not fail; return the failed ids."""
        event = {"Records": [sqs_record(message, self.mapping.queue_arn, self.region) for message in messages]}
        outcome = self.invoker.invoke(self.mapping.function, event, f"sqs:{self.queue_name}")
        failed = failed_item_ids(outcome, (m["MessageId"] for m in messages), self.mapping.report_item_failures)
        if failed is None:
            # The whole batch returns to the queue after its visibility timeout; moto's redrive
            # policy moves a message to the DLQ once it has been received maxReceiveCount times.
            return None
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)]
            self.sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        return failed


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    buffered_since: float = 0.0


class StreamPoller:
    """A DynamoDB stream trigger: each shard in order, with Lambda's retry/bisect/on-failure rules."""

    def __init__(self, mapping: StreamMapping, invoker: Invoker, clients: Clients, region: str):
        self.mapping, self.invoker, self.clients, self.region = mapping, invoker, clients, region
        self.streams = clients("dynamodbstreams")
        self.table = mapping.stream_arn.split("/")[1] if mapping.stream_arn.count("/") >= 3 else mapping.stream_arn
        self.name = f"stream:{self.table}->{mapping.function}"
        self.shards: dict[str, _Shard] = {}

    def run(self, stop: threading.Event) -> None:
        """Read every shard, deliver full (or window-expired) batches, sleep briefly when idle."""
        next_discovery = 0.0
        while not stop.is_set():
            if time.monotonic() >= next_discovery:
                try:
                    self._discover_shards()
                except Exception as error:
                    if self.shards:
                        raise
                    # Most likely the decorator's placeholder ARN with no binding in resources.yaml.
                    log.error(
                        "%s: cannot read stream %s (%s); bind it in infra/resources.yaml with "
                        'Stream: {"Fn::GetAtt": [<Table>, StreamArn]}; this trigger stays off',
                        self.name,
                        self.mapping.stream_arn,
                        error,
                    )
                    return
                next_discovery = time.monotonic() + SHARD_DISCOVERY_SECONDS
            delivered = False
            for shard in list(self.shards.values()):
                batch = self._next_batch(shard)
                if batch:
                    self.deliver(batch, shard.shard_id, stop)
                    delivered = True
                elif shard.iterator is None and not shard.buffer:
                    del self.shards[shard.shard_id]  # a closed shard, fully read
            if not delivered:
                stop.wait(STREAM_POLL_SECONDS)

    def _discover_shards(self) -> None:
        """Start new shards: the first ones at the configured position, later (child) ones from the start."""
        first = not self.shards
        description = self.streams.describe_stream(StreamArn=self.mapping.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self.shards:
                continue
            position = self.mapping.starting_position if first else "TRIM_HORIZON"
            iterator = self.streams.get_shard_iterator(
                StreamArn=self.mapping.stream_arn, ShardId=shard_id, ShardIteratorType=position
            )["ShardIterator"]
            self.shards[shard_id] = _Shard(shard_id, iterator)

    def _next_batch(self, shard: _Shard) -> list[dict[str, Any]]:
        """Top the shard's buffer up; return a batch once it is full or the batching window has passed."""
        size = self.mapping.batch_size
        if shard.iterator is not None and len(shard.buffer) < size:
            response = self.streams.get_records(ShardIterator=shard.iterator, Limit=size - len(shard.buffer))
            shard.iterator = response.get("NextShardIterator")
            records = [stream_record(r, self.mapping.stream_arn, self.region) for r in response.get("Records", [])]
            if records and not shard.buffer:
                shard.buffered_since = time.monotonic()
            shard.buffer += records
        if not shard.buffer:
            return []
        window_over = time.monotonic() - shard.buffered_since >= self.mapping.batching_window
        if len(shard.buffer) < size and not window_over and shard.iterator is not None:
            return []
        batch, shard.buffer = shard.buffer[:size], shard.buffer[size:]
        shard.buffered_since = time.monotonic()
        return batch

    def deliver(self, batch: list[dict[str, Any]], shard_id: str, stop: threading.Event) -> None:
        """Process one batch to the end: success, or retries/bisection then the on-failure destination."""
        mapping = self.mapping
        work: list[tuple[list[dict[str, Any]], int]] = [(batch, 0)]  # (records, retries so far)
        while work and not stop.is_set():
            records, retries = work.pop(0)
            records = self._drop_expired(records, shard_id, retries)
            if not records:
                continue
            event = {"Records": records}
            outcome = self.invoker.invoke(mapping.function, event, f"dynamodb:{self.table}")
            sequence = [r["dynamodb"]["SequenceNumber"] for r in records]
            failed = failed_item_ids(outcome, sequence, mapping.report_item_failures)
            if failed == set():
                continue
            if failed is None and mapping.bisect_on_error and len(records) > 1:
                # Bisecting does not count against the retry quota (as on AWS).
                half = len(records) // 2
                work[:0] = [(records[:half], retries), (records[half:], retries)]
                continue
            if failed:
                # Checkpoint before the first failed record: the rest of the batch is retried.
                first = min(sequence.index(item) for item in failed)
                records = records[first:]
            if 0 <= mapping.max_retry_attempts <= retries:
                self._send_to_on_failure(records, shard_id, "RetryAttemptsExhausted", retries + 1)
                continue
            log.info("%s: batch of %d failed; retry %d", self.name, len(records), retries + 1)
            work.insert(0, (records, retries + 1))
            stop.wait(RETRY_BACKOFF_SECONDS[min(retries, len(RETRY_BACKOFF_SECONDS) - 1)])

    def _drop_expired(self, records: list[dict[str, Any]], shard_id: str, retries: int) -> list[dict[str, Any]]:
        """Send records older than MaximumRecordAgeInSeconds to the destination; return the rest."""
        if self.mapping.max_record_age < 0:
            return records
        oldest_allowed = time.time() - self.mapping.max_record_age
        expired = [r for r in records if r["dynamodb"].get("ApproximateCreationDateTime", 0) < oldest_allowed]
        if expired:
            self._send_to_on_failure(expired, shard_id, "RecordAgeExceeded", retries)
        return [r for r in records if r not in expired]

    def _send_to_on_failure(self, records: list[dict[str, Any]], shard_id: str, condition: str, invokes: int) -> None:
        """Discard records as Lambda does: a failure record to the on-failure destination, if any."""
        destination = self.mapping.on_failure_arn
        log.warning(
            "%s: %d record(s) discarded (%s)%s",
            self.name,
            len(records),
            condition,
            f"; sent to {destination.rsplit(':', 1)[-1]}" if destination else "",
        )
        if not destination:
            return
        body = json.dumps(on_failure_record(self.mapping, records, shard_id, condition, invokes))
        service = destination.split(":")[2]
        if service == "sqs":
            sqs = self.clients("sqs")
            queue_url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[-1])["QueueUrl"]
            sqs.send_message(QueueUrl=queue_url, MessageBody=body)
        elif service == "sns":
            self.clients("sns").publish(TopicArn=destination, Message=body)
        else:
            log.warning("%s: on-failure destination %s is not SQS or SNS; nothing sent", self.name, destination)


def on_failure_record(
    mapping: StreamMapping, records: list[dict[str, Any]], shard_id: str, condition: str, invokes: int
) -> dict[str, Any]:
    """The invocation record Lambda sends to a stream mapping's on-failure destination."""

    def arrival(record: dict[str, Any]) -> str:
        created = record["dynamodb"].get("ApproximateCreationDateTime", 0)
        return datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z")

    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": mapping.function_arn,
            "condition": condition,
            "approximateInvokeCount": invokes,
        },
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "version": "1.0",
        "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
            "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": mapping.stream_arn,
        },
    }


class SchedulePoller:
    """Every schedule of the app: fires each on time (in its own thread, like an async invoke)."""

    name = "schedules"

    def __init__(self, mappings: list[ScheduleMapping], invoker: Invoker, region: str):
        self.invoker, self.region = invoker, region
        self.schedules: list[tuple[ScheduleMapping, Schedule]] = [(m, parse(m.expression)) for m in mappings]

    def run(self, stop: threading.Event) -> None:
        """Sleep (a second at most) until the next fire time; fire what is due."""
        now = datetime.now(UTC)
        due = [schedule.next_after(now) for _, schedule in self.schedules]
        while self.schedules and not stop.is_set():
            now = datetime.now(UTC)
            for index, (mapping, schedule) in enumerate(self.schedules):
                if due[index] <= now:
                    when = due[index]
                    threading.Thread(target=self.fire, args=(mapping, when), daemon=True).start()
                    # After a pause (a suspended laptop) skip the missed runs instead of firing each.
                    due[index] = schedule.next_after(when)
                    if due[index] <= now:
                        due[index] = schedule.next_after(now)
            stop.wait(max(0.0, min(1.0, (min(due) - datetime.now(UTC)).total_seconds())))

    def fire(self, mapping: ScheduleMapping, when: datetime | None = None) -> Outcome:
        """Invoke a scheduled function now with the event its rule would send."""
        event = scheduled_event(mapping, self.region, when or datetime.now(UTC))
        return self.invoker.invoke(mapping.function, event, f"schedule:{mapping.expression}")


class Pollers:
    """All pollers of an app: start() them, fire() a schedule on demand, stop() within a second."""

    def __init__(self, mappings: Mappings, invoker: Invoker, clients: Clients, region: str):
        self.mappings = mappings
        self.pollers: list[_Poller] = [
            QueuePoller(m, invoker, clients, region, worker) for m in mappings.queues for worker in range(m.concurrency)
        ]
        self.pollers += [StreamPoller(m, invoker, clients, region) for m in mappings.streams]
        self.schedule_poller = SchedulePoller(mappings.schedules, invoker, region)
        if mappings.schedules:
            self.pollers.append(self.schedule_poller)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start one daemon thread per poller."""
        for poller in self.pollers:
            thread = threading.Thread(target=self._guarded, args=(poller,), name=poller.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _guarded(self, poller: _Poller) -> None:
        """Run a poller; on an unexpected error log one line and restart it a second later."""
        while not self._stop.is_set():
            try:
                poller.run(self._stop)
                return
            except Exception as error:  # a poller must outlive a bad batch or a restarting endpoint
                if self._stop.is_set():
                    return
                log.warning("%s: %s: %s (restarting in 1 s)", poller.name, type(error).__name__, error)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 1.0) -> None:
        """Signal every poller and wait for them, at most `timeout` seconds in all."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def schedule(self, name: str) -> ScheduleMapping:
        """Find a schedule by function name, logical id, physical name or ARN (KeyError names the choices)."""
        for mapping in self.mappings.schedules:
            physical = mapping.function_arn.rsplit(":", 1)[-1]
            if name in (mapping.function, mapping.logical_id, physical, mapping.function_arn):
                return mapping
        known = ", ".join(m.function for m in self.mappings.schedules) or "none"
        raise KeyError(f"no schedule named {name!r} (schedules: {known})")

    def fire(self, name: str) -> Outcome:
        """Fire a schedule on demand, synchronously; return the invocation outcome."""
        return self.schedule_poller.fire(self.schedule(name))
