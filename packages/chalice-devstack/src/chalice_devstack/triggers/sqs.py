"""SQS triggers (`on_sqs_message`): batches, batching window, partial batch responses, FIFO message groups."""

import base64
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from chalice.app import SQSEventConfig

from chalice_devstack.triggers.base import (
    BatchItems,
    Clients,
    Discovery,
    Invoker,
    TriggerError,
    failed_item_ids,
    reports_item_failures,
)
from chalice_devstack.triggers.wakes import SHARED, Wakes

log = logging.getLogger(__name__)

LONG_POLL_SECONDS = 1  # SQS WaitTimeSeconds while busy: bounded so shutdown is never later than a second
# After a batch, a poller keeps a long poll open this long (messages tend to come in runs, and a
# waiting long poll answers faster than a wake-up); then it sleeps until woken.
BUSY_SECONDS = 2.0
SQS_CONCURRENCY = 2  # concurrent batches per queue unless ScalingConfig.MaximumConcurrency says otherwise


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

    @property
    def queue_name(self) -> str:
        """The queue's name (the ARN's last part)."""
        return self.queue_arn.rsplit(":", 1)[-1]

    @property
    def fifo(self) -> bool:
        """A FIFO queue: ordered per message group."""
        return self.queue_name.endswith(".fifo")


def queue_mapping(source: SQSEventConfig, discovery: Discovery) -> QueueMapping:
    """The mapping `chalice deploy` would create for an on_sqs_message handler, with its resources.yaml patch."""
    patch = discovery.patch(source.name, f"{source.name}-sqs-event-source")
    limit = patch.get("ScalingConfig", {}).get("MaximumConcurrency") or source.maximum_concurrency
    window = patch.get("MaximumBatchingWindowInSeconds", source.maximum_batching_window_in_seconds)
    return QueueMapping(
        function=source.name,
        function_arn=discovery.function_arn(source.name),
        queue_arn=patch.get("Queue", source.queue_arn or discovery.arn("sqs", str(source.queue))),
        batch_size=int(patch.get("BatchSize", source.batch_size)),
        batching_window=float(window),
        report_item_failures=reports_item_failures(patch),
        concurrency=min(int(limit), SQS_CONCURRENCY) if limit else SQS_CONCURRENCY,
    )


def check_visibility(mappings: Iterable[QueueMapping], timeout_of: Callable[[str], int], sqs: Any) -> None:
    """Refuse, as AWS does, a mapping whose queue does not exist or whose function outlasts the queue's hiding."""
    for mapping in mappings:
        try:
            url = sqs.get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
        except sqs.exceptions.QueueDoesNotExist:
            raise TriggerError(
                f"{mapping.function}: queue {mapping.queue_name} does not exist; AWS refuses a trigger on a missing "
                "queue: declare it as an AWS::SQS::Queue in the resources file (or create it in the seed hook)"
            ) from None
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
        visibility, timeout = int(attributes["VisibilityTimeout"]), timeout_of(mapping.function)
        if timeout > visibility:
            raise TriggerError(
                f"{mapping.function}: its timeout ({timeout} s, lambda_timeout in .chalice/config.json) is longer "
                f"than queue {mapping.queue_name}'s VisibilityTimeout ({visibility} s); AWS refuses this trigger: "
                f"raise VisibilityTimeout to at least {timeout} s (AWS advises 6x) or lower lambda_timeout"
            )


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


def receive(sqs: Any, queue_url: str, count: int, wait: int = 0) -> list[dict[str, Any]]:
    """One ReceiveMessage call with every attribute Lambda passes on (a long poll of `wait` seconds)."""
    response = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=max(1, min(10, count)),
        WaitTimeSeconds=wait,
        MessageSystemAttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    messages: list[dict[str, Any]] = response.get("Messages", [])
    return messages


class QueuePoller:
    """One concurrent consumer of an SQS trigger: receive when woken, invoke, delete what succeeded.

    An idle poller sleeps; the endpoint wakes it when a message lands on its queue
    (triggers/wakes.py). A busy one (a batch within BUSY_SECONDS) long-polls, as Lambda's pollers
    do. A batch that fails comes back when its visibility timeout ends, and the poller wakes then.
    """

    def __init__(
        self,
        mapping: QueueMapping,
        invoker: Invoker,
        clients: Clients,
        region: str,
        worker: int = 0,
        wakes: Wakes = SHARED,
    ):
        self.mapping, self.invoker, self.region = mapping, invoker, region
        self.sqs = clients("sqs")
        self.queue_name = mapping.queue_name
        self.name = self._name(worker)
        self.wake = wakes.get(f"sqs:{self.queue_name}")
        self.visibility = 0.0
        self.busy_until = 0.0

    def _name(self, worker: int) -> str:
        """The poller's name in logs: queue, function and which of the queue's consumers."""
        return f"sqs:{self.queue_name}->{self.mapping.function}#{worker}"

    def prepare(self) -> None:
        """Nothing to set up: the queue comes from the resources file."""

    def run(self, stop: threading.Event) -> None:
        """Deliver batches while the queue has messages; sleep until woken (or the safety poll) when it has none."""
        queue_url = self._open()
        while not stop.is_set():
            seen = self.wake.count  # before the receive: a message sent after it wakes the wait below
            busy = time.monotonic() < self.busy_until
            messages = self._gather(queue_url, stop, LONG_POLL_SECONDS if busy else 0)
            if messages:
                self.deliver(queue_url, messages)
            elif not busy:
                self.wake.wait(seen)

    def _open(self) -> str:
        """The queue's URL; note its visibility timeout (when a failed batch comes back)."""
        queue_url: str = self.sqs.get_queue_url(QueueName=self.queue_name)["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["VisibilityTimeout"])
        self.visibility = float(attributes["Attributes"]["VisibilityTimeout"])
        return queue_url

    def _gather(self, queue_url: str, stop: threading.Event, wait: int = 0) -> list[dict[str, Any]]:
        """One batch: the first receive (waiting up to `wait` s), then more until full or the batching window ends."""
        batch_size = self.mapping.batch_size
        seen = self.wake.count
        messages = receive(self.sqs, queue_url, batch_size, wait)
        deadline = time.monotonic() + self.mapping.batching_window
        while messages and len(messages) < batch_size and not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            seen = self.wake.wait(seen, left)
            messages += receive(self.sqs, queue_url, batch_size - len(messages))
        return messages

    def deliver(self, queue_url: str, messages: list[dict[str, Any]]) -> set[str] | None:
        """Invoke the function with one batch; delete the messages it did not fail; return the failed ids."""
        event = {"Records": [sqs_record(message, self.mapping.queue_arn, self.region) for message in messages]}
        items = BatchItems(tuple(m["MessageId"] for m in messages), self.mapping.report_item_failures)
        outcome = self.invoker.invoke(self.mapping.function, event, f"sqs:{self.queue_name}", items)
        self.busy_until = time.monotonic() + BUSY_SECONDS
        failed = failed_item_ids(outcome, items.ids, items.report_item_failures)
        if failed is None or failed:
            # The failed messages return to the queue after its visibility timeout (wake then); moto's
            # redrive policy moves a message to the DLQ once it has been received maxReceiveCount times.
            self.wake.notify(self.visibility)
        if failed is None:
            return None
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(chunk)]
            self.sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        return failed


def message_group(message: dict[str, Any]) -> str:
    """A FIFO message's group id."""
    return str(message.get("Attributes", {}).get("MessageGroupId", ""))


class MessageGroups:
    """The FIFO message groups that have a batch in flight: at most one batch per group at a time."""

    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._lock = threading.Condition()
        self.releases = 0  # batches done so far: take it before a receive, pass it to wait_for_release

    def claim(self, messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Split a receive into (claimed: groups now busy, held: groups already busy with another batch)."""
        with self._lock:
            held = [message for message in messages if message_group(message) in self._busy]
            claimed = [message for message in messages if message_group(message) not in self._busy]
            self._busy |= {message_group(message) for message in claimed}
            return claimed, held

    def release(self, messages: list[dict[str, Any]]) -> None:
        """The batch holding these messages is done: their groups may have the next batch."""
        with self._lock:
            self._busy -= {message_group(message) for message in messages}
            self.releases += 1
            self._lock.notify_all()

    def wait_for_release(self, seen: int, timeout: float) -> None:
        """Block until a batch after the first `seen` frees its groups (or `timeout` seconds)."""
        with self._lock:
            self._lock.wait_for(lambda: self.releases != seen, timeout)


class FifoQueuePoller(QueuePoller):
    """A FIFO queue's trigger: one receiver, up to `concurrency` batches in flight, one per message group.

    moto snapshots a queue's in-flight groups when a long poll starts, so two concurrent receives
    can both take messages of one group: devstack receives from one thread and gates groups itself.
    """

    def _name(self, worker: int) -> str:
        """One receiver per FIFO queue: no worker number."""
        return f"sqs:{self.queue_name}->{self.mapping.function}"

    @cached_property
    def groups(self) -> MessageGroups:
        """The message groups with a batch in flight."""
        return MessageGroups()

    @cached_property
    def slots(self) -> threading.Semaphore:
        """One per batch that may be in flight."""
        return threading.Semaphore(self.mapping.concurrency)

    def run(self, stop: threading.Event) -> None:
        """Receive a batch whenever a slot is free; deliver each on its own thread."""
        queue_url = self._open()
        while not stop.is_set():
            if not self.slots.acquire(timeout=self.wake.safety_poll):
                continue
            seen, released = self.wake.count, self.groups.releases
            messages = self._gather(queue_url, stop)
            claimed = self.claim(queue_url, messages)
            if not claimed:
                self.slots.release()
                if messages:  # all behind their groups' batches in flight: wait for one to finish
                    self.groups.wait_for_release(released, self.wake.safety_poll)
                else:
                    self.wake.wait(seen)
                continue
            threading.Thread(target=self._deliver_in_slot, args=(queue_url, claimed), daemon=True).start()

    def claim(self, queue_url: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The messages whose group is free; the others go straight back to the queue, behind their group's batch."""
        claimed, held = self.groups.claim(messages)
        for message in held:
            self.sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        return claimed

    def _deliver_in_slot(self, queue_url: str, messages: list[dict[str, Any]]) -> None:
        """Deliver one batch, then free its groups and its slot (a failed batch's messages stay invisible)."""
        try:
            self.deliver(queue_url, messages)
        except Exception as error:  # the batch returns after its visibility timeout, as a failure would
            log.warning("%s: %s: %s", self.name, type(error).__name__, error)
        finally:
            self.groups.release(messages)
            self.slots.release()
