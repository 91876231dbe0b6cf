"""make redrive: every DLQ of infra/resources.yaml, SQS's batch limits, and nothing lost or doubled by a crash."""

import json
from pathlib import Path
from typing import Any

import pytest
from chalice_devstack.redrive import DeadLetterPair, batches, redrive

from chalicelib.db.aws import {% if cookiecutter.include_stream == 'y' %}dynamodb_client, dynamodb_streams_client, {% endif %}sqs_client
from scripts.redrive import (
{%- if cookiecutter.include_stream == 'y' %}
    FAILED,
    TRIMMED,
{%- endif %}
    dead_letter_pairs,
    listing,
{%- if cookiecutter.include_stream == 'y' %}
    replay_stream,
    stream_replays,
{%- endif %}
)
{%- if cookiecutter.include_stream == 'y' %}
from tests.conftest import TEST_REGION
{%- endif %}

pytestmark = pytest.mark.usefixtures("aws")
PAIRS = dead_letter_pairs("dev")
EXPECTED = [
{%- if cookiecutter.include_orders == 'y' %}
    "orders",
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}
    "domain-events",
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
    "uploads",
{%- endif %}
]


def sqs() -> Any:
    """A client of the test's moto."""
    return sqs_client()


def url(name: str) -> str:
    """A queue's URL."""
    return str(sqs().get_queue_url(QueueName=name)["QueueUrl"])


def drain(name: str) -> list[str]:
    """Every body in the queue, each removed once read."""
    bodies: list[str] = []
    for _ in range(50):
        messages = sqs().receive_message(QueueUrl=url(name), MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies += [m["Body"] for m in messages]
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        sqs().delete_message_batch(QueueUrl=url(name), Entries=entries)
    return bodies


def dead_letters(pair: DeadLetterPair, bodies: list[str]) -> None:
    """Given: the pair's queue empty (S3's provisioning test event gone) and these messages in its DLQ."""
    drain(pair.queue)
    for body in bodies:
        sqs().send_message(QueueUrl=url(pair.dlq), MessageBody=body)


def test_every_queue_with_a_dlq_can_be_redriven_by_its_short_name() -> None:
    """Given the resources file, then each queue with a RedrivePolicy is listed, named as make redrive takes it."""
    assert sorted(PAIRS) == sorted(EXPECTED)
    assert all(pair.dlq.endswith("-dlq") and pair.queue in pair.dlq for pair in PAIRS.values())
    assert [line.split()[0] for line in listing(sqs(), PAIRS, {})] == list(PAIRS)


@pytest.mark.parametrize("name", EXPECTED)
def test_redrive_moves_every_dead_letter_back_exactly_once(name: str, tmp_path: Path) -> None:
    """Given 23 dead letters, when redriven, then each is in the queue once and the DLQ is empty."""
    pair = PAIRS[name]
    sent = [json.dumps({"n": i}) for i in range(23)]
    dead_letters(pair, sent)
    result = redrive(sqs(), pair, journal_dir=tmp_path)
    assert result == {"queue": pair.queue, "dlq": pair.dlq, "moved": 23, "already_sent_before": 0, "skipped": 0}
    assert sorted(drain(pair.queue)) == sorted(sent)
    assert drain(pair.dlq) == []


def test_large_messages_go_back_in_batches_within_one_mib(tmp_path: Path) -> None:
    """Given ten 200 KiB dead letters (2 MiB, over one SendMessageBatch), when redriven, then all go back."""
    pair = PAIRS[EXPECTED[0]]
    large = [json.dumps({"n": i, "pad": "x" * 200_000}) for i in range(10)]
    dead_letters(pair, large)
    assert redrive(sqs(), pair, journal_dir=tmp_path)["moved"] == 10
    assert sorted(drain(pair.queue)) == sorted(large)


def test_batches_never_pass_ten_messages_or_one_mib() -> None:
    """Given messages of mixed sizes, then every batch holds at most 10 and at most 1 MiB."""
    messages = [{"Body": "x" * size} for size in [300_000, 300_000, 300_000, 300_000, *[10] * 12]]
    sizes = [(len(batch), sum(len(m["Body"]) for m in batch)) for batch in batches(messages)]
    assert all(count <= 10 and total <= 1_048_576 for count, total in sizes)
    assert sum(count for count, _ in sizes) == len(messages)


class CrashOnDelete:
    """An SQS client whose first DeleteMessageBatch fails, as a run killed between send and delete."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def delete_message_batch(self, **_: Any) -> None:
        raise ConnectionError("killed")


class RefusesOddMessages:
    """An SQS client whose SendMessageBatch refuses every second entry, as SQS does a message it cannot take."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        kept = [entry for n, entry in enumerate(Entries) if n % 2 == 0]
        answer = self.client.send_message_batch(QueueUrl=QueueUrl, Entries=kept)
        refused = [
            {"Id": e["Id"], "Code": "InvalidParameterValue", "Message": "bad body", "SenderFault": True}
            for n, e in enumerate(Entries)
            if n % 2
        ]
        return {**answer, "Failed": refused}


def test_messages_sqs_refuses_are_reported_as_skipped_with_why_and_stay(tmp_path: Path) -> None:
    """Given 4 dead letters of which SQS refuses 2, when redriven, then 2 move and 2 are skipped, with the reason."""
    pair = PAIRS[EXPECTED[0]]
    dead_letters(pair, [json.dumps({"n": i}) for i in range(4)])
    result = redrive(RefusesOddMessages(sqs()), pair, journal_dir=tmp_path, visibility_timeout=30)
    assert result == {**result, "moved": 2, "skipped": 2}
    assert result["why"] == {"InvalidParameterValue: bad body": 2}
    assert result["then"] == "stay in the DLQ, visible again in 30 s"
    assert len(drain(pair.queue)) == 2


def test_a_rerun_after_a_crash_neither_loses_nor_repeats_a_message(tmp_path: Path) -> None:
    """Given a run that sent a batch and died before deleting it, when run again,
    then every message is in the queue exactly once and the DLQ is empty."""
    pair = PAIRS[EXPECTED[0]]
    sent = [json.dumps({"n": i}) for i in range(5)]
    dead_letters(pair, sent)
    with pytest.raises(ConnectionError):  # visible again at once, as after the real timeout
        redrive(CrashOnDelete(sqs()), pair, journal_dir=tmp_path, visibility_timeout=0)
    result = redrive(sqs(), pair, journal_dir=tmp_path)
    assert result == {**result, "moved": 0, "already_sent_before": 5}
    assert sorted(drain(pair.queue)) == sorted(sent)
    assert drain(pair.dlq) == []
    assert list(tmp_path.iterdir()) == []

{%- if cookiecutter.include_stream == 'y' %}


def streams() -> Any:
    """A DynamoDB Streams client of the test's moto."""
    return dynamodb_streams_client()


def on_failure_record() -> dict[str, Any]:
    """Given: two writes on the service table's stream, and the on-failure record Lambda sends for their batch."""
    from chalicelib.config import get_settings

    dynamodb, table = dynamodb_client(), get_settings().service_table
    for n in (1, 2):
        dynamodb.put_item(TableName=table, Item={"pk": {"S": f"REPLAY#{n}"}, "sk": {"S": "ITEM"}})
    stream_arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams().describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams().get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams().get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    sequences = [record["dynamodb"]["SequenceNumber"] for record in records]
    info = {"shardId": shard, "streamArn": stream_arn, "batchSize": len(records)}
    return {"DDBStreamBatchInfo": {**info, "startSequenceNumber": sequences[0], "endSequenceNumber": sequences[-1]}}


def waiting(queue: str) -> int:
    """Messages in a queue, visible or not."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs().get_queue_attributes(QueueUrl=url(queue), AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


@pytest.mark.parametrize(("took_it", "replayed", "left"), [(True, 1, 0), (False, 0, 1)])
def test_a_stream_failure_is_replayed_from_the_stream_to_its_function(took_it: bool, replayed: int, left: int) -> None:
    """Given an on-failure record in the stream DLQ, when replayed, then the function gets the records it
    describes in Lambda's shape, and the DLQ message goes only if the function took the whole batch."""
    replay = stream_replays("dev")["record-activity-stream"]
    record = on_failure_record()
    sqs().send_message(QueueUrl=url(replay.dlq), MessageBody=json.dumps(record))
    seen: list[tuple[str, dict[str, Any]]] = []

    def invoke(function: str, event: dict[str, Any]) -> bool:
        seen.append((function, event))
        return took_it

    result = replay_stream(sqs(), streams(), invoke, replay, TEST_REGION)
    assert result == {**result, "dlq": replay.dlq, "function": replay.function, "replayed": replayed}
    assert result.get("why") == ({FAILED: 1} if left else None)
    [(function, event)] = seen
    assert function.endswith("-dev-record_activity")
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in event["Records"]] == ["REPLAY#1", "REPLAY#2"]
    assert {r["eventSource"] for r in event["Records"]} == {"aws:dynamodb"}
    assert waiting(replay.dlq) == left


def test_records_the_stream_has_trimmed_keep_their_message() -> None:
    """Given an on-failure record for more records than the stream still holds, then nothing is invoked."""
    replay = stream_replays("dev")["record-activity-stream"]
    record = on_failure_record()
    record["DDBStreamBatchInfo"]["batchSize"] += 1
    sqs().send_message(QueueUrl=url(replay.dlq), MessageBody=json.dumps(record))
    result = replay_stream(sqs(), streams(), lambda *_: pytest.fail("invoked"), replay, TEST_REGION)
    assert result == {**result, "replayed": 0, "skipped": 1, "why": {TRIMMED: 1}} and waiting(replay.dlq) == 1
{%- endif %}
