"""Move dead letters back to their queue: `make redrive QUEUE=orders`; `make redrive` lists every DLQ.

The queue/DLQ pairs come from infra/resources.yaml (each queue's RedrivePolicy), resolved for the
stage, so a queue added there can be redriven with no change here. Messages move by hand, the same
way on AWS and offline: receive, send in batches within SQS's limits, delete. A journal
(.redrive/<dlq>.json) records each message once it is sent and before it is deleted, so a re-run
after a crash deletes what was already sent instead of sending it again: nothing is lost and
nothing is sent twice.
"""

import argparse
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalice_devstack.intrinsics import Scope, default_parameters, resolve

from scripts.stage_env import PROJECT, use_stage

MAX_ROUNDS = 10_000  # 10 messages a round: a bound far above any DLQ this tool should see
MAX_BATCH_MESSAGES = 10
MAX_BATCH_BYTES = 1_048_576  # SendMessageBatch: all bodies and attributes together
JOURNAL_DIR = PROJECT.root / ".redrive"


@dataclass(frozen=True)
class DeadLetterPair:
    """A queue and the DLQ its RedrivePolicy sends failed messages to, as named in one stage."""

    name: str
    queue: str
    dlq: str


def short_name(logical_id: str) -> str:
    """The name `make redrive QUEUE=` takes: OrdersQueue -> orders, DomainEventsQueue -> domain-events."""
    stem = logical_id.removesuffix("Queue")
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in stem).lstrip("-")


def dead_letter_pairs(stage: str, region: str = "us-east-1") -> dict[str, DeadLetterPair]:
    """Every queue of the resources file that has a DLQ, by short name."""
    template = PROJECT.resources()
    resources = template["Resources"]
    scope = Scope(default_parameters(template, stage, region, PROJECT.name), {})
    pairs = {}
    for logical_id, resource in resources.items():
        policy = resource.get("Properties", {}).get("RedrivePolicy")
        if resource.get("Type") == "AWS::SQS::Queue" and policy:
            dlq_id = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
            queue = resolve(resource["Properties"]["QueueName"], scope)
            dlq = resolve(resources[dlq_id]["Properties"]["QueueName"], scope)
            pairs[short_name(logical_id)] = DeadLetterPair(short_name(logical_id), queue, dlq)
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


def send(sqs: Any, queue_url: str, messages: list[dict[str, Any]]) -> list[str]:
    """Send messages to the queue in batches; the ids of those SQS accepted."""
    sent = []
    for batch in batches(messages):
        entries = [
            {
                "Id": str(i),
                "MessageBody": m["Body"],
                **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
            }
            for i, m in enumerate(batch)
        ]
        accepted = {entry["Id"] for entry in sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)["Successful"]}
        sent += [m["MessageId"] for i, m in enumerate(batch) if str(i) in accepted]
    return sent


def delete(sqs: Any, dlq_url: str, messages: list[dict[str, Any]]) -> None:
    """Delete messages from the DLQ (one batch: a receive gives at most 10)."""
    if messages:
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs.delete_message_batch(QueueUrl=dlq_url, Entries=entries)


def redrive(
    sqs: Any, pair: DeadLetterPair, journal_dir: Path = JOURNAL_DIR, visibility_timeout: int = 60
) -> dict[str, Any]:
    """Move the DLQ's messages back to the queue; return what was done."""
    queue_url = sqs.get_queue_url(QueueName=pair.queue)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=pair.dlq)["QueueUrl"]
    journal = Journal(journal_dir / f"{pair.dlq}.json")
    moved = resumed = 0
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
        sent_ids = send(sqs, queue_url, [m for m in messages if m["MessageId"] not in journal.sent])
        journal.record(sent_ids)
        done = [m for m in messages if m["MessageId"] in journal.sent]
        delete(sqs, dlq_url, done)
        journal.forget([m["MessageId"] for m in done])
        moved, resumed = moved + len(sent_ids), resumed + len(already)
    return {"queue": pair.queue, "dlq": pair.dlq, "moved": moved, "already_sent_before": resumed}


def listing(sqs: Any, pairs: dict[str, DeadLetterPair]) -> list[str]:
    """One line per DLQ: its short name, the queues, and how many messages wait in it."""
    lines = []
    for pair in pairs.values():
        url = sqs.get_queue_url(QueueName=pair.dlq)["QueueUrl"]
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        lines.append(f"{pair.name:16} {pair.dlq} -> {pair.queue}  ({depth['ApproximateNumberOfMessages']} waiting)")
    return lines


def main() -> None:
    """CLI: python -m scripts.redrive [QUEUE] [--stage dev]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queue", nargs="?", help="the queue's short name (none: list every DLQ)")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    use_stage(args.stage)
    from chalicelib.db.aws import client

    pairs = dead_letter_pairs(args.stage)
    if not args.queue:
        print("\n".join(["redrive one with: make redrive QUEUE=<name>", *listing(client("sqs"), pairs)]))
        return
    if args.queue not in pairs:
        raise SystemExit(f"unknown queue {args.queue!r}: the DLQs are {', '.join(sorted(pairs))}")
    print(json.dumps(redrive(client("sqs"), pairs[args.queue])))


if __name__ == "__main__":
    main()
