"""The uploads queue consumer: S3 object-created notifications, delivered through SQS.

S3 -> SQS -> Lambda rather than Chalice's on_s3_event: on_s3_event cannot be packaged to
CloudFormation, and the queue adds retries, batching and a DLQ. Partial batch failure: only
the records that failed are returned in batchItemFailures (ReportBatchItemFailures is set on
the mapping in infra/resources.yaml); after maxReceiveCount a record lands in the uploads DLQ.
"""

from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chalice.app import Blueprint, SQSEvent

from chalicelib.config import get_settings
from chalicelib.observability import logger
from chalicelib.schemas.uploads import S3Notification
from chalicelib.services import uploads as service

BATCH_SIZE = 10
BATCHING_WINDOW_SECONDS = 1

uploads_events = Blueprint(__name__)
# Report failures even when every record failed, instead of raising: the outcome is the same
# (all redelivered) but the function does not show as errored for one poison batch.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@uploads_events.on_sqs_message(
    queue=get_settings().uploads_queue,
    batch_size=BATCH_SIZE,
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def process_uploads(event: SQSEvent) -> dict[str, Any]:
    """Check each uploaded object in the batch; return the records that failed."""
    response = process_partial_response(
        event=event.to_dict(),
        record_handler=_check_objects,
        processor=_processor,
        context=cast(LambdaContext, event.context),
    )
    return dict(response)


def _check_objects(record: SQSRecord) -> None:
    logger.set_correlation_id(record.message_id)
    service.handle_notification(S3Notification.model_validate_json(record.body))
