"""devstack's moto fixes: a cancelled DynamoDB transaction writes nothing and leaves the stream readable."""

import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalice_devstack import moto_fixes
from tests.conftest import TEST_REGION

TABLE = "fixes"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """Given: moto with the fixes applied and a table with a stream."""
    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=TEST_REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def put_if_absent(pk: str) -> dict[str, Any]:
    """A transaction item that creates pk only if it does not exist yet."""
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}}, "ConditionExpression": "attribute_not_exists(pk)"}}


def stream_reader(client: Any) -> tuple[Any, str]:
    """A streams client and a LATEST iterator on the table's only shard."""
    streams = boto3.client("dynamodbstreams", region_name=TEST_REGION)
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    return streams, iterator


def test_a_cancelled_transaction_writes_nothing_and_names_the_failed_condition(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[put_if_absent("new"), put_if_absent("taken")])

    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "new"}})


def test_a_successful_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put_if_absent("a"), put_if_absent("b")])

    assert dynamodb.scan(TableName=TABLE)["Count"] == 2


def test_the_stream_keeps_flowing_to_existing_readers_after_a_cancelled_transaction(dynamodb: Any) -> None:
    streams, iterator = stream_reader(dynamodb)
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put_if_absent("taken")])
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})

    records = streams.get_records(ShardIterator=iterator)["Records"]

    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["taken", "after"]


def test_two_operations_on_one_item_are_rejected(dynamodb: Any) -> None:
    with pytest.raises(ClientError, match="multiple operations"):
        dynamodb.transact_write_items(TransactItems=[put_if_absent("x"), put_if_absent("x")])


def test_concurrent_conditional_puts_of_one_key_let_exactly_one_through(dynamodb: Any) -> None:
    """Given 8 threads putting each of 25 keys only if absent, When they race, Then each key is created once."""
    barrier = threading.Barrier(8)

    def claim(worker: int) -> int:
        barrier.wait()
        won = 0
        for n in range(25):
            try:
                dynamodb.put_item(
                    TableName=TABLE,
                    Item={"pk": {"S": f"key-{n}"}, "by": {"N": str(worker)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                won += 1
            except dynamodb.exceptions.ConditionalCheckFailedException:
                pass
        return won

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unlocked check-then-write does interleave
    try:
        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(claim, range(8))) == 25
    finally:
        sys.setswitchinterval(switch)


def test_responses_read_the_same_with_the_serializer_cache(dynamodb: Any) -> None:
    """Given an item of every attribute type, when read back twice (the second from the cache), it is unchanged."""
    item = {
        "pk": {"S": "all-types"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x00\x01"},
        "flag": {"BOOL": True},
        "none": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"M": {"deep": {"N": "3"}}}]}}},
    }
    dynamodb.put_item(TableName=TABLE, Item=item)
    reads = [dynamodb.get_item(TableName=TABLE, Key={"pk": item["pk"]})["Item"] for _ in range(2)]
    assert reads == [item, item]
    assert len(moto_fixes._POSSIBLE_KEYS) > 0  # the serializer went through the cache
    described = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert (described["TableName"], described["KeySchema"][0]["AttributeName"]) == (TABLE, "pk")
