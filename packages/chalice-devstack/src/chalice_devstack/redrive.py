"""Move a DLQ's messages back to their queue: what a service's `make redrive` and the console's redrive button run.

Messages move by hand, the same way on AWS and offline: receive, send in batches within SQS's limits,
delete (moto has no StartMessageMoveTask, and the journal below needs each message in hand anyway).
A journal (`<journal_dir>/<dlq>.json`) records each message once it is sent and before it is
deleted, so a re-run after a crash deletes what was already sent instead of sending it again:
nothing is lost and nothing is sent twice.
"""

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalice_devstack.intrinsics import Scope

MAX_ROUNDS = 10_000  # 10 messages a round: a bound far above any DLQ this tool should see
MAX_BATCH_MESSAGES = 10
MAX_BATCH_BYTES = 1_048_576  # SendMessageBatch: all bodies and attributes together
QUEUE_TYPE = "AWS::SQS::Queue"


@dataclass(frozen=True)
class DeadLetterPair:
    """A queue and the DLQ its RedrivePolicy sends failed messages to, as named in one stage."""

    name: str
    queue: str
    dlq: str


def pairs_by_dlq(template: dict[str, Any], scope: Scope) -> dict[str, DeadLetterPair]:
    """Every provisioned queue with a RedrivePolicy, by its DLQ's logical id (named by the source's logical id)."""
    from chalice_devstack.status import referenced_ids  # status imports alarms, which the redrive script never needs

    pairs = {}
    for logical_id, resource in template["Resources"].items():
        policy = resource.get("Properties", {}).get("RedrivePolicy") or {}
        for dlq_id in referenced_ids(policy.get("deadLetterTargetArn")):
            if resource.get("Type") == QUEUE_TYPE and {logical_id, dlq_id} <= scope.attributes.keys():
                queue, dlq = scope.attributes[logical_id]["QueueName"], scope.attributes[dlq_id]["QueueName"]
                pairs[dlq_id] = DeadLetterPair(logical_id, queue, dlq)
    return pairs


def entry_size(message: dict[str, Any]) -> int:
    """What a message counts toward a batch's 1 MiB: its body and its attributes' names and values."""
    attributes = json.dumps(message.get("MessageAttributes", {}))
    return len(message["Body"].encode()) + len(attributes.encode())


def batches(messages: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """The messages in SendMessageBatch-sized groups: at most 10 and 1 MiB each (a message is at most 256 KiB)."""
    batch: list[dict[str, Any]] = []
    size = 0
    for message in messages:
        if batch and (len(batch) == MAX_BATCH_MESSAGES or size + entry_size(message) > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += entry_size(message)
    if batch:
        yield batch


class Journal:
    """The DLQ message ids already sent back, kept on disk until the DLQ copy is deleted."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sent: set[str] = set(json.loads(path.read_text())) if path.exists() else set()

    def record(self, message_ids: list[str]) -> None:
        """Note messages as sent (written before their DLQ copies are deleted)."""
        self.sent.update(message_ids)
        self.path.parent.mkdir(exist_ok=True)
        self.path.write_text(json.dumps(sorted(self.sent)))

    def forget(self, message_ids: list[str]) -> None:
        """Drop messages whose DLQ copies are gone; the file goes when nothing is left."""
        self.sent.difference_update(message_ids)
        if self.sent:
            self.path.write_text(json.dumps(sorted(self.sent)))
        else:
            self.path.unlink(missing_ok=True)


@dataclass
class Sent:
    """What SendMessageBatch did with a run's messages: the DLQ ids it took, and why it refused others."""

    ids: list[str] = field(default_factory=list)
    refused: Counter[str] = field(default_factory=Counter)


def send(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> Sent:
    """Send messages to the queue in batches; which SQS accepted, and why it refused the rest."""
    sent = Sent()
    for batch in batches(messages):
        entries = [
            {
                "Id": str(i),
                "MessageBody": m["Body"],
                **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
            }
            for i, m in enumerate(batch)
        ]
        answer = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        accepted = {entry["Id"] for entry in answer.get("Successful", [])}
        sent.ids += [m["MessageId"] for i, m in enumerate(batch) if str(i) in accepted]
        sent.refused.update(f"{f.get('Code')}: {f.get('Message', '')}".rstrip(": ") for f in answer.get("Failed", []))
    return sent


def delete(sqs: Any, dlq_url: str, messages: list[dict[str, Any]]) -> None:
    """Delete messages from the DLQ (one batch: a receive gives at most 10)."""
    if messages:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=dlq_url, Entries=entries)


def redrive(sqs: Any, pair: DeadLetterPair, journal_dir: Path, visibility_timeout: int = 60) -> dict[str, Any]:
    """Move the DLQ's messages back to the queue; return what was done, and why anything stayed."""
    queue_url = sqs.get_queue_url(QueueName=pair.queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=pair.dlq)["QueueUrl"]
    journal = Journal(journal_dir / f"{pair.dlq}.json")
    moved = resumed = 0
    refused: Counter[str] = Counter()
    for _ in range(MAX_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=visibility_timeout,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            break
        already = [m for m in messages if m["MessageId"] in journal.sent]  # sent by a run that then crashed
        sent = send(sqs, queue_url, [m for m in messages if m["MessageId"] not in journal.sent])
        journal.record(sent.ids)
        done = [m for m in messages if m["MessageId"] in journal.sent]
        delete(sqs, dlq_url, done)
        journal.forget([m["MessageId"] for m in done])
        moved, resumed = moved + len(sent.ids), resumed + len(already)
        refused += sent.refused  # those stay in the DLQ, hidden until their visibility timeout ends
    report = {"queue": pair.queue, "dlq": pair.dlq, "moved": moved, "already_sent_before": resumed}
    return {**report, **skipped(refused, f"stay in the DLQ, visible again in {visibility_timeout} s")}


def skipped(reasons: Counter[str], then: str) -> dict[str, Any]:
    """The report's skipped count, and why (each reason with its count) when anything was skipped."""
    total = sum(reasons.values())
    if not total:
        return {"skipped": 0}
    return {"skipped": total, "why": {reason: count for reason, count in reasons.most_common()}, "then": then}
