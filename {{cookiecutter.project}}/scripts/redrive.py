"""Move every message of a queue's DLQ back to the queue: `make redrive QUEUE=orders`.

Uses SQS's StartMessageMoveTask where the endpoint supports it (AWS); otherwise (moto)
receive -> send -> delete, deleting only what was sent, so nothing is lost. A crash between
send and delete can repeat a message, which every consumer here tolerates (idempotent).
"""

import argparse
import json
from typing import Any

from scripts.stage_env import use_stage

MAX_ROUNDS = 10_000  # 10 messages a round: a bound far above any DLQ this tool should see


def queue_names(queue: str) -> tuple[str, str]:
    """(source, DLQ) names of a queue from settings: `<queue>_queue` and `<queue>_dlq`."""
    from chalicelib.config import get_settings

    settings = get_settings()
    try:
        return getattr(settings, f"{queue}_queue"), getattr(settings, f"{queue}_dlq")
    except AttributeError:
        raise SystemExit(f"unknown queue {queue!r}: settings have no {queue}_queue / {queue}_dlq") from None


def redrive(sqs: Any, source_name: str, dlq_name: str) -> dict[str, Any]:
    """Move the DLQ's messages back to the source queue; return what was done."""
    source_url = sqs.get_queue_url(QueueName=source_name)["QueueUrl"]
    dlq_url = sqs.get_queue_url(QueueName=dlq_name)["QueueUrl"]
    arns = [
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        for url in (dlq_url, source_url)
    ]
    try:
        task = sqs.start_message_move_task(SourceArn=arns[0], DestinationArn=arns[1])
        return {"method": "StartMessageMoveTask", "task": task["TaskHandle"]}
    except Exception as error:  # moto answers "not implemented": fall back to moving by hand
        fallback_reason = type(error).__name__
    moved = 0
    for _ in range(MAX_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            break
        entries = [
            {
                "Id": str(i),
                "MessageBody": m["Body"],
                **({"MessageAttributes": m["MessageAttributes"]} if m.get("MessageAttributes") else {}),
            }
            for i, m in enumerate(messages)
        ]
        sent = {
            entry["Id"] for entry in sqs.send_message_batch(QueueUrl=source_url, Entries=entries).get("Successful", [])
        }
        done = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages) if str(i) in sent]
        if done:
            sqs.delete_message_batch(QueueUrl=dlq_url, Entries=done)
        moved += len(done)
    return {"method": "receive-send-delete", "moved": moved, "why": fallback_reason}


def main() -> None:
    """CLI: python -m scripts.redrive orders [--stage dev]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queue", help="the queue's settings prefix, e.g. orders")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    use_stage(args.stage)
    from chalicelib.db.aws import client

    source, dlq = queue_names(args.queue)
    print(json.dumps({"queue": source, "dlq": dlq, **redrive(client("sqs"), source, dlq)}))


if __name__ == "__main__":
    main()
