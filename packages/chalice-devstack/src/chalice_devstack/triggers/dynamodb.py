"""DynamoDB stream triggers (`on_dynamodb_record`): read through DynamoDB Streams, shaped as Lambda delivers them."""

import base64
from datetime import datetime
from typing import Any

from chalice.app import DynamoDBEventConfig

from chalice_devstack.triggers.base import Clients, Discovery
from chalice_devstack.triggers.shards import StreamMapping, stream_mapping


def dynamodb_mapping(source: DynamoDBEventConfig, discovery: Discovery) -> StreamMapping:
    """The mapping of an on_dynamodb_record handler (the decorator's ARN is often a placeholder the patch binds)."""
    return stream_mapping(source, discovery, f"{source.name}-dynamodb-event-source", source.stream_arn)


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


class DynamoDBShards:
    """A table's stream, read through the DynamoDB Streams API."""

    batch_info_key = "DDBStreamBatchInfo"

    def __init__(self, stream_arn: str, clients: Clients, region: str):
        self.stream_arn, self.region = stream_arn, region
        self.streams = clients("dynamodbstreams")
        table = stream_arn.split("/")[1] if stream_arn.count("/") >= 3 else stream_arn
        self.label = f"dynamodb:{table}"

    def ensure(self) -> None:
        """The table and its stream come from the resources file; nothing to create."""

    def shard_ids(self) -> list[str]:
        """The stream's shards."""
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description.get("Shards", [])]

    def iterator(self, shard_id: str, position: str) -> str:
        """A shard iterator."""
        response = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType=position
        )
        return str(response["ShardIterator"])

    def read(self, shard_id: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Records after the iterator, Lambda-shaped."""
        response = self.streams.get_records(ShardIterator=iterator, Limit=limit)
        records = [stream_record(r, self.stream_arn, self.region) for r in response.get("Records", [])]
        return records, response.get("NextShardIterator")

    def sequence(self, record: dict[str, Any]) -> str:
        """The record's sequence number."""
        return str(record["dynamodb"]["SequenceNumber"])

    def arrival(self, record: dict[str, Any]) -> float:
        """When the change was written."""
        return float(record["dynamodb"].get("ApproximateCreationDateTime", 0))
