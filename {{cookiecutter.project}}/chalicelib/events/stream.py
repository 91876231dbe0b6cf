"""The service table's DynamoDB stream -> audit trail, per-user counters and domain events.

Partial batch failure by sequence number: only failed records are returned in
batchItemFailures (ReportBatchItemFailures on the mapping in infra/resources.yaml), so
Lambda resumes from the first failed record; the mapping also bisects a failing batch,
retries a bounded number of times, drops records older than an hour, and sends what it
gives up on to the stream DLQ. Reprocessed records are harmless: applying one is idempotent.
"""

from datetime import UTC, datetime
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chalice.app import Blueprint, DynamoDBEvent

from chalicelib.config import get_settings
from chalicelib.observability import correlated
from chalicelib.schemas.activity import TableChange
from chalicelib.services import activity as service

BATCH_SIZE = 100
BATCHING_WINDOW_SECONDS = 1


def placeholder_stream_arn() -> str:
    """A stable placeholder: the decorator needs an ARN when app.py is imported, but the real
    stream ARN exists only once the table does; infra/resources.yaml binds the real one."""
    settings = get_settings()
    return f"arn:aws:dynamodb:{settings.aws_region}:123456789012:table/{settings.service_table}/stream/placeholder"


stream = Blueprint(__name__)
# A wholly failed batch is reported, not raised: Lambda then bisects and retries it the same way.
_processor = BatchProcessor(event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False)


@stream.on_dynamodb_record(
    stream_arn=placeholder_stream_arn(),
    batch_size=BATCH_SIZE,
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def record_activity(event: DynamoDBEvent) -> dict[str, Any]:
    """Record the activity of each change in the batch; return the records that failed."""
    response = process_partial_response(
        event=event.to_dict(),
        record_handler=_record,
        processor=_processor,
        context=cast(LambdaContext, event.context),
    )
    return dict(response)


def _record(record: DynamoDBRecord) -> None:
    change = to_change(record)
    # The id of the request that wrote the item (orders keep it), else this record's own.
    tagged = (change.new or {}).get("correlation_id")
    with correlated(str(tagged) if tagged else change.event_id):
        service.record_change(change)


def to_change(record: DynamoDBRecord) -> TableChange:
    """Parse one stream record into a TableChange (images deserialized, time as UTC)."""
    data = record.dynamodb
    if data is None or record.event_name is None:
        raise ValueError(f"stream record {record.event_id} has no dynamodb section")
    created = data.approximate_creation_date_time
    return TableChange(
        event_id=record.event_id or "",
        sequence_number=data.sequence_number or "",
        kind=record.event_name.name,
        at=datetime.fromtimestamp(created, UTC) if created is not None else datetime.now(UTC),
        old=data.old_image or None,
        new=data.new_image or None,
    )
