"""The uploads queue consumer: S3 object-created notifications, delivered through SQS.

S3 -> SQS -> Lambda rather than Chalice's on_s3_event: on_s3_event cannot be packaged to
CloudFormation, and the queue adds retries, batching, partial batch failure and a DLQ
(after 5 receives).
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import Blueprint, SQSEvent

from chalicelib.config import get_settings
from chalicelib.events.sqs_batch import process_sqs_batch
from chalicelib.observability import correlated
from chalicelib.schemas.uploads import S3Notification
from chalicelib.services import uploads as service

BATCH_SIZE = 10
BATCHING_WINDOW_SECONDS = 1

uploads_events = Blueprint(__name__)


@uploads_events.on_sqs_message(
    queue=get_settings().uploads_queue,
    batch_size=BATCH_SIZE,
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def process_uploads(event: SQSEvent) -> dict[str, Any]:
    """Check each uploaded object in the batch; return the records that failed."""
    return process_sqs_batch(event, _check_objects)


def _check_objects(record: SQSRecord) -> None:
    with correlated(record.message_id):
        service.handle_notification(S3Notification.model_validate_json(record.body))
