"""Kinesis triggers (`on_kinesis_record`): the stream by name or from the resources file, Lambda-shaped."""

import base64
from datetime import datetime
from typing import Any

from chalice.app import KinesisEventConfig

from chalice_devstack.project import LOCAL_ACCOUNT_ID
from chalice_devstack.triggers.base import Clients, Discovery
from chalice_devstack.triggers.shards import StreamMapping, stream_mapping


def kinesis_mapping(source: KinesisEventConfig, discovery: Discovery) -> StreamMapping:
    """The mapping of an on_kinesis_record handler: the stream by name, as `chalice package` writes it."""
    arn = discovery.arn("kinesis", f"stream/{source.stream}")
    return stream_mapping(source, discovery, f"{source.name}-kinesis-event-source", arn)


def kinesis_record(record: dict[str, Any], shard_id: str, stream_arn: str, region: str) -> dict[str, Any]:
    """One Kinesis record (as boto3 returns it) as Lambda hands it to a function: data in base64."""
    arrived = record["ApproximateArrivalTimestamp"]
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode(),
            "approximateArrivalTimestamp": arrived.timestamp() if isinstance(arrived, datetime) else float(arrived),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/devstack",
        "awsRegion": region,
        "eventSourceARN": stream_arn,
    }


class KinesisShards:
    """A Kinesis stream, created by name when the resources file does not define it."""

    batch_info_key = "KinesisBatchInfo"

    def __init__(self, stream_arn: str, clients: Clients, region: str):
        self.stream_arn, self.region = stream_arn, region
        self.kinesis = clients("kinesis")
        self.stream = stream_arn.rsplit("/", 1)[-1]
        self.label = f"kinesis:{self.stream}"

    def ensure(self) -> None:
        """Create the stream (one shard) unless it exists: Chalice's decorator names a stream it does not create."""
        if self.stream not in self.kinesis.list_streams().get("StreamNames", []):
            self.kinesis.create_stream(StreamName=self.stream, ShardCount=1)

    def shard_ids(self) -> list[str]:
        """The stream's shards."""
        shards = self.kinesis.list_shards(StreamName=self.stream).get("Shards", [])
        return [shard["ShardId"] for shard in shards]

    def iterator(self, shard_id: str, position: str) -> str:
        """A shard iterator."""
        response = self.kinesis.get_shard_iterator(StreamName=self.stream, ShardId=shard_id, ShardIteratorType=position)
        return str(response["ShardIterator"])

    def read(self, shard_id: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Records after the iterator, Lambda-shaped."""
        response = self.kinesis.get_records(ShardIterator=iterator, Limit=limit)
        records = [kinesis_record(r, shard_id, self.stream_arn, self.region) for r in response.get("Records", [])]
        return records, response.get("NextShardIterator")

    def sequence(self, record: dict[str, Any]) -> str:
        """The record's sequence number."""
        return str(record["kinesis"]["sequenceNumber"])

    def arrival(self, record: dict[str, Any]) -> float:
        """When the record reached the stream."""
        return float(record["kinesis"]["approximateArrivalTimestamp"])
