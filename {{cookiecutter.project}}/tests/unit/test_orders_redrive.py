"""make redrive QUEUE=orders: every DLQ message goes back to the orders queue once."""

import json
from typing import Any

import boto3
import pytest

from chalicelib.config import get_settings
from scripts.redrive import queue_names, redrive
from tests.conftest import TEST_REGION

pytestmark = pytest.mark.usefixtures("aws")


def drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies += [m["Body"] for m in messages]
        sqs.delete_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)]
        )
    return bodies


def test_redrive_moves_every_dead_letter_back_exactly_once() -> None:
    sqs = boto3.client("sqs", region_name=TEST_REGION)
    source, dlq = queue_names("orders")
    assert (source, dlq) == (get_settings().orders_queue, get_settings().orders_dlq)
    dlq_url = sqs.get_queue_url(QueueName=dlq)["QueueUrl"]
    sent = [json.dumps({"order_id": str(i)}) for i in range(23)]
    for body in sent:
        sqs.send_message(QueueUrl=dlq_url, MessageBody=body)
    result = redrive(sqs, source, dlq)
    assert result["moved"] == 23
    assert sorted(drain(sqs, sqs.get_queue_url(QueueName=source)["QueueUrl"])) == sorted(sent)
    assert drain(sqs, dlq_url) == []


def test_an_unknown_queue_is_a_clear_error() -> None:
    with pytest.raises(SystemExit, match="unknown queue 'nope'"):
        queue_names("nope")
