"""What the shard-based triggers share (DynamoDB streams, Kinesis): the mapping and how a stream is read."""

from dataclasses import dataclass
from typing import Any, Protocol

from chalice.app import DynamoDBEventConfig, KinesisEventConfig

from chalice_devstack.triggers.base import Discovery, reports_item_failures


@dataclass(frozen=True)
class StreamMapping:
    """A stream trigger (DynamoDB stream or Kinesis): the Chalice decorator plus its resources.yaml patch."""

    function: str
    function_arn: str
    stream_arn: str
    batch_size: int
    batching_window: float
    starting_position: str
    report_item_failures: bool = False
    bisect_on_error: bool = False
    max_retry_attempts: int = -1  # -1: retry until the record expires, as on AWS
    max_record_age: int = -1  # seconds; -1: records never expire
    on_failure_arn: str | None = None


def stream_mapping(
    source: DynamoDBEventConfig | KinesisEventConfig, discovery: Discovery, event_resource: str, stream_arn: str
) -> StreamMapping:
    """The mapping of a stream trigger: the patch wins where it says something; the decorator gives the rest."""
    patch = discovery.patch(source.name, event_resource)
    window = patch.get("MaximumBatchingWindowInSeconds", source.maximum_batching_window_in_seconds)
    return StreamMapping(
        function=source.name,
        function_arn=discovery.function_arn(source.name),
        stream_arn=patch.get("Stream", stream_arn),
        batch_size=int(patch.get("BatchSize", source.batch_size)),
        batching_window=float(window),
        starting_position=patch.get("StartingPosition", source.starting_position),
        report_item_failures=reports_item_failures(patch),
        bisect_on_error=bool(patch.get("BisectBatchOnFunctionError", False)),
        max_retry_attempts=int(patch.get("MaximumRetryAttempts", -1)),
        max_record_age=int(patch.get("MaximumRecordAgeInSeconds", -1)),
        on_failure_arn=patch.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
    )


class ShardSource(Protocol):
    """One stream's shards, read the way Lambda reads them, records shaped as Lambda hands them over."""

    label: str  # the trigger as the console shows it: `dynamodb:<table>`, `kinesis:<stream>`
    batch_info_key: str  # the on-failure record's batch info key

    def ensure(self) -> None:
        """Make sure the stream exists (or raise)."""
        ...

    def shard_ids(self) -> list[str]:
        """The stream's shards, parents first."""
        ...

    def iterator(self, shard_id: str, position: str) -> str:
        """A shard iterator at TRIM_HORIZON or LATEST."""
        ...

    def read(self, shard_id: str, iterator: str, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        """Up to `limit` Lambda-shaped records and the next iterator (None once a closed shard is read)."""
        ...

    def sequence(self, record: dict[str, Any]) -> str:
        """A Lambda-shaped record's sequence number (what a partial batch response names)."""
        ...

    def arrival(self, record: dict[str, Any]) -> float:
        """When the record reached the stream (epoch seconds)."""
        ...
