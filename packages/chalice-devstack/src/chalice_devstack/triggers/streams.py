"""The shard poller Lambda runs for stream triggers (DynamoDB streams, Kinesis): per-shard order,
batching window, retries, bisect, partial batch responses, maximum record age, on-failure destination."""

import json
import logging
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chalice_devstack.triggers.base import BatchItems, Clients, Invoker, failed_item_ids
from chalice_devstack.triggers.dynamodb import DynamoDBShards
from chalice_devstack.triggers.kinesis import KinesisShards
from chalice_devstack.triggers.shards import ShardSource, StreamMapping
from chalice_devstack.triggers.wakes import SHARED, Wakes

log = logging.getLogger(__name__)

SHARD_DISCOVERY_SECONDS = 10.0
RETRY_BACKOFF_SECONDS = (0.1, 0.2, 0.5, 1.0)  # stream batch retries; Lambda also backs off, we keep it short


def shard_source(stream_arn: str, clients: Clients, region: str) -> ShardSource:
    """The reader for a stream ARN: Kinesis for `arn:aws:kinesis:...`, DynamoDB Streams otherwise."""
    if stream_arn.startswith("arn:") and stream_arn.split(":")[2] == "kinesis":
        return KinesisShards(stream_arn, clients, region)
    return DynamoDBShards(stream_arn, clients, region)


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: list[dict[str, Any]] = field(default_factory=list)
    buffered_since: float = 0.0


class StreamPoller:
    """A stream trigger: each shard in order, with Lambda's retry/bisect/on-failure rules.

    Streams have no long poll: the endpoint wakes the poller when a record is written
    (triggers/wakes.py), and it reads every shard until none has a batch to deliver.
    """

    def __init__(
        self,
        mapping: StreamMapping,
        invoker: Invoker,
        clients: Clients,
        region: str,
        source: ShardSource | None = None,
        wakes: Wakes = SHARED,
    ):
        self.mapping, self.invoker, self.clients, self.region = mapping, invoker, clients, region
        self.source = source or shard_source(mapping.stream_arn, clients, region)
        self.name = f"{self.source.label}->{mapping.function}"
        self.wake = wakes.get(self.source.label)
        self.shards: dict[str, _Shard] = {}
        self._prepared = False
        self._next_discovery = 0.0
        # (wall time, IteratorAge ms) per invocation, as Lambda reports it: the age of the batch's last record.
        self.iterator_ages: deque[tuple[float, float]] = deque(maxlen=1000)
        # Per shard, for the console: the last sequence number processed, and the batch being delivered.
        self.checkpoints: dict[str, str] = {}
        self.batches_under_way: dict[str, dict[str, int]] = {}

    def prepare(self) -> None:
        """Create the stream if it is the decorator's by name; take the starting positions now, as AWS does
        when it creates the mapping (so a record written once devstack is ready is never missed at LATEST)."""
        self._prepared = True
        try:
            self.source.ensure()
            self._discover_shards()
        except Exception as error:
            # Most likely the decorator's placeholder ARN with no binding in resources.yaml.
            log.error(
                "%s: cannot read stream %s (%s); bind it in infra/resources.yaml with "
                'Stream: {"Fn::GetAtt": [<Resource>, <StreamArn|Arn>]}; this trigger stays off',
                self.name,
                self.mapping.stream_arn,
                error,
            )
            return
        self._next_discovery = time.monotonic() + SHARD_DISCOVERY_SECONDS

    def run(self, stop: threading.Event) -> None:
        """Read every shard, deliver full (or window-expired) batches; sleep until woken when none has one."""
        if not self._prepared:
            self.prepare()
        if not self.shards:
            return  # prepare() said why
        while not stop.is_set():
            if time.monotonic() >= self._next_discovery:
                self._discover_shards()
                self._next_discovery = time.monotonic() + SHARD_DISCOVERY_SECONDS
            seen = self.wake.count  # before the reads: a record written after them wakes the wait below
            delivered = False
            for shard in list(self.shards.values()):
                batch = self._next_batch(shard)
                if batch:
                    self.deliver(batch, shard.shard_id, stop)
                    delivered = True
                elif shard.iterator is None and not shard.buffer:
                    del self.shards[shard.shard_id]  # a closed shard, fully read
            if not delivered:
                self.wake.wait(seen, self._idle_seconds())

    def _idle_seconds(self) -> float:
        """How long to sleep with nothing to deliver: until a buffered batch's window ends, or the safety poll."""
        now = time.monotonic()
        ends = [s.buffered_since + self.mapping.batching_window - now for s in self.shards.values() if s.buffer]
        return max(0.0, min([self.wake.safety_poll, *ends]))

    def _discover_shards(self) -> None:
        """Start new shards: the first ones at the configured position, later (child) ones from the start."""
        first = not self.shards
        for shard_id in self.source.shard_ids():
            if shard_id not in self.shards:
                position = self.mapping.starting_position if first else "TRIM_HORIZON"
                self.shards[shard_id] = _Shard(shard_id, self.source.iterator(shard_id, position))

    def _next_batch(self, shard: _Shard) -> list[dict[str, Any]]:
        """Top the shard's buffer up; return a batch once it is full or the batching window has passed."""
        size = self.mapping.batch_size
        if shard.iterator is not None and len(shard.buffer) < size:
            records, shard.iterator = self.source.read(shard.shard_id, shard.iterator, size - len(shard.buffer))
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
            now = time.time()
            self.iterator_ages.append((now, (now - self.source.arrival(records[-1])) * 1000))
            sequence = [self.source.sequence(record) for record in records]
            self.batches_under_way[shard_id] = {"records": len(records), "of": len(batch), "retries": retries}
            items = BatchItems(tuple(sequence), mapping.report_item_failures)
            outcome = self.invoker.invoke(mapping.function, {"Records": records}, self.source.label, items)
            if outcome.throttled:  # Lambda retries a throttled batch without counting it against the retries
                work.insert(0, (records, retries))
                stop.wait(RETRY_BACKOFF_SECONDS[-1])
                continue
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
                records = records[min(sequence.index(item) for item in failed) :]
            if 0 <= mapping.max_retry_attempts <= retries:
                self._send_to_on_failure(records, shard_id, "RetryAttemptsExhausted", retries + 1)
                continue
            log.info("%s: batch of %d failed; retry %d", self.name, len(records), retries + 1)
            work.insert(0, (records, retries + 1))
            stop.wait(RETRY_BACKOFF_SECONDS[min(retries, len(RETRY_BACKOFF_SECONDS) - 1)])
        self.batches_under_way.pop(shard_id, None)
        self.checkpoints[shard_id] = self.source.sequence(batch[-1])

    def _drop_expired(self, records: list[dict[str, Any]], shard_id: str, retries: int) -> list[dict[str, Any]]:
        """Send records older than MaximumRecordAgeInSeconds to the destination; return the rest."""
        if self.mapping.max_record_age < 0:
            return records
        oldest_allowed = time.time() - self.mapping.max_record_age
        expired = [r for r in records if self.source.arrival(r) < oldest_allowed]
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
        body = json.dumps(on_failure_record(self.mapping, self.source, records, shard_id, condition, invokes))
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
    mapping: StreamMapping,
    source: ShardSource,
    records: list[dict[str, Any]],
    shard_id: str,
    condition: str,
    invokes: int,
) -> dict[str, Any]:
    """The invocation record Lambda sends to a stream mapping's on-failure destination."""

    def arrival(record: dict[str, Any]) -> str:
        return datetime.fromtimestamp(source.arrival(record), UTC).isoformat().replace("+00:00", "Z")

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
        source.batch_info_key: {
            "shardId": shard_id,
            "startSequenceNumber": source.sequence(records[0]),
            "endSequenceNumber": source.sequence(records[-1]),
            "approximateArrivalOfFirstRecord": arrival(records[0]),
            "approximateArrivalOfLastRecord": arrival(records[-1]),
            "batchSize": len(records),
            "streamArn": mapping.stream_arn,
        },
    }
