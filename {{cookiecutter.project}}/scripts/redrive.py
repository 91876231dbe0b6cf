"""Move dead letters back to their queue: `make redrive QUEUE=orders`; `make redrive` lists every DLQ.

The queue/DLQ pairs come from infra/resources.yaml (each queue's RedrivePolicy), resolved for the
stage, so a queue added there can be redriven with no change here. The messages move with
chalice_devstack.redrive, the code the devstack console's redrive button runs too: by hand, the same
way on AWS and offline (receive, send in batches within SQS's limits, delete), with a journal
(.redrive/<dlq>.json) so a re-run after a crash sends nothing twice and loses nothing.

A stream mapping's on-failure DLQ holds no records, only where they were (shard and sequence
range): `make redrive QUEUE=<function>-stream` reads that range from the stream again and invokes
the function with it; the DLQ message goes only when the function took the whole batch.

It prints one JSON line: how many moved (or replayed), how many were skipped and, when any were,
why (each reason with its count) and what happens to them. Bad input (an unknown QUEUE or STAGE,
no devstack on the endpoint) is one line on stderr and exit code 2.
"""

import argparse
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice_devstack.intrinsics import Scope, default_parameters, resolve
from chalice_devstack.redrive import MAX_ROUNDS, DeadLetterPair, redrive, skipped

from scripts.stage_env import PROJECT, ScriptError, run_script, use_stage

JOURNAL_DIR = PROJECT.root / ".redrive"


def short_name(logical_id: str) -> str:
    """The name `make redrive QUEUE=` takes: OrdersQueue -> orders, DomainEventsQueue -> domain-events."""
    stem = logical_id.removesuffix("Queue")
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in stem).lstrip("-")


def stage_queues(stage: str, region: str) -> tuple[dict[str, Any], Callable[[str], str]]:
    """The resources file's resources, and the stage's name of any of its queues by logical id."""
    template = PROJECT.resources()
    resources = template["Resources"]
    scope = Scope(default_parameters(template, stage, region, PROJECT.name), {})
    return resources, lambda logical_id: str(resolve(resources[logical_id]["Properties"]["QueueName"], scope))


def dead_letter_pairs(stage: str, region: str = "us-east-1") -> dict[str, DeadLetterPair]:
    """Every queue of the resources file that has a DLQ, by short name."""
    resources, queue_name = stage_queues(stage, region)
    pairs = {}
    for logical_id, resource in resources.items():
        policy = resource.get("Properties", {}).get("RedrivePolicy")
        if resource.get("Type") == "AWS::SQS::Queue" and policy:
            dlq_id = policy["deadLetterTargetArn"]["Fn::GetAtt"][0]
            name = short_name(logical_id)
            pairs[name] = DeadLetterPair(name, queue_name(logical_id), queue_name(dlq_id))
    return pairs


@dataclass(frozen=True)
class StreamReplay:
    """A stream mapping's on-failure DLQ and the function its records are replayed to."""

    name: str
    dlq: str
    function: str


def camel_to_snake(logical_id: str) -> str:
    """RecordActivity -> record_activity (chalice names a function's resource the other way round)."""
    return short_name(logical_id).replace("-", "_")


def stream_replays(stage: str, region: str = "us-east-1") -> dict[str, StreamReplay]:
    """Every stream mapping of the resources file with an on-failure DLQ, by `<function>-stream`."""
    resources, queue_name = stage_queues(stage, region)
    app_name = PROJECT.chalice_config()["app_name"]
    replays = {}
    for logical_id, resource in resources.items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            destination = event.get("Properties", {}).get("DestinationConfig", {}).get("OnFailure", {})
            if "Stream" in event.get("Properties", {}) and destination:
                dlq_id = destination["Destination"]["Fn::GetAtt"][0]
                name = f"{short_name(logical_id)}-stream"
                function = f"{app_name}-{stage}-{camel_to_snake(logical_id)}"
                replays[name] = StreamReplay(name, queue_name(dlq_id), function)
    return replays


def batch_records(streams: Any, info: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream records an on-failure record describes (fewer if the stream has trimmed them)."""
    start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
    iterator = streams.get_shard_iterator(
        StreamArn=info["streamArn"],
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=info["startSequenceNumber"],
    ).get("ShardIterator")
    found: list[dict[str, Any]] = []
    for _ in range(MAX_ROUNDS):
        if not iterator:
            break
        page = streams.get_records(ShardIterator=iterator, Limit=1000)
        records = page.get("Records", [])
        found += [r for r in records if start <= int(r["dynamodb"]["SequenceNumber"]) <= end]
        if not records or int(records[-1]["dynamodb"]["SequenceNumber"]) >= end:
            break
        iterator = page.get("NextShardIterator")
    return found


# Invokes a function with an event; True when it took the whole batch.
Invoke = Callable[[str, dict[str, Any]], bool]


def lambda_invoke(lambda_client: Any) -> Invoke:
    """Invoke through the Lambda API (AWS, or devstack's endpoint)."""

    def invoke(function: str, event: dict[str, Any]) -> bool:
        answer = lambda_client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
        payload = json.loads(answer["Payload"].read() or b"null")
        failures = isinstance(payload, dict) and payload.get("batchItemFailures")
        return not answer.get("FunctionError") and not failures

    return invoke


REPLAY_VISIBILITY_TIMEOUT = 60
TRIMMED = "trimmed: the stream no longer holds every record of the batch (read the message, then delete it)"
FAILED = "failed: the function failed the batch again"
NOT_A_RECORD = "not a stream on-failure record (no DDBStreamBatchInfo)"


def replay_one(streams: Any, invoke: Invoke, replay: StreamReplay, body: str, region: str) -> str | None:
    """Invoke the function with the records one on-failure message describes; None if it took them, else why not."""
    from chalice_devstack.triggers.dynamodb import stream_record

    try:
        info = json.loads(body)["DDBStreamBatchInfo"]
    except (ValueError, KeyError, TypeError):
        return NOT_A_RECORD
    records = batch_records(streams, info)
    if len(records) < int(info["batchSize"]):
        return TRIMMED  # keep the message for a person to read
    event = {"Records": [stream_record(record, info["streamArn"], region) for record in records]}
    return None if invoke(replay.function, event) else FAILED


def replay_stream(sqs: Any, streams: Any, invoke: Invoke, replay: StreamReplay, region: str) -> dict[str, Any]:
    """Replay every on-failure record of the DLQ; delete each whose batch the function took whole."""
    dlq_url = sqs.get_queue_url(QueueName=replay.dlq)["QueueUrl"]
    replayed = 0
    reasons: Counter[str] = Counter()
    for _ in range(MAX_ROUNDS):
        messages = sqs.receive_message(
            QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=REPLAY_VISIBILITY_TIMEOUT
        )
        if not messages.get("Messages"):
            break
        for message in messages["Messages"]:
            reason = replay_one(streams, invoke, replay, message["Body"], region)
            if reason:
                reasons[reason] += 1
                continue
            replayed += 1  # handlers are idempotent: a crash before this delete replays once more
            sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=message["ReceiptHandle"])
        if reasons:
            break  # what stays is visible again after the timeout: stop rather than read it again
    then = f"stay in the DLQ, visible again in {REPLAY_VISIBILITY_TIMEOUT} s"
    return {"dlq": replay.dlq, "function": replay.function, "replayed": replayed, **skipped(reasons, then)}


def listing(sqs: Any, pairs: dict[str, DeadLetterPair], replays: dict[str, StreamReplay]) -> list[str]:
    """One line per DLQ: its short name, where its messages go back to, and how many wait in it."""
    lines = []
    targets = [(p.name, p.dlq, p.queue) for p in pairs.values()] + [
        (r.name, r.dlq, r.function) for r in replays.values()
    ]
    for name, dlq, target in targets:
        url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
        depth = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
        lines.append(f"{name:24} {dlq} -> {target}  ({depth['ApproximateNumberOfMessages']} waiting)")
    return lines


def main() -> None:
    """CLI: python -m scripts.redrive [QUEUE] [--stage dev]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("queue", nargs="?", help="the queue's short name (none: list every DLQ)")
    parser.add_argument("--stage", default="dev")
    args = parser.parse_args()
    pairs, replays = dead_letter_pairs(args.stage), stream_replays(args.stage)
    if args.queue and args.queue not in {*pairs, *replays}:
        names = ", ".join(sorted([*pairs, *replays]))
        raise ScriptError(f"no DLQ named {args.queue!r}: use QUEUE= one of {names} (make redrive lists them)")
    use_stage(args.stage)
    from chalicelib.config import get_settings
    from chalicelib.db.aws import dynamodb_streams_client, lambda_client, sqs_client

    if not args.queue:
        print("\n".join(["redrive one with: make redrive QUEUE=<name>", *listing(sqs_client(), pairs, replays)]))
    elif args.queue in pairs:
        print(json.dumps(redrive(sqs_client(), pairs[args.queue], JOURNAL_DIR)))
    else:
        region = get_settings().aws_region
        invoke = lambda_invoke(lambda_client())
        print(json.dumps(replay_stream(sqs_client(), dynamodb_streams_client(), invoke, replays[args.queue], region)))


if __name__ == "__main__":
    run_script(main)
