"""The orders queue consumer: starts one saga execution per order message.

Partial batch failure: only the records that failed are returned in batchItemFailures
(the mapping has ReportBatchItemFailures in infra/resources.yaml), so SQS redelivers just
those; after maxReceiveCount (3) a record lands in the orders DLQ. A malformed message is
one failed record, never a crashed batch.
"""

from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chalice.app import Blueprint, SQSEvent

from chalicelib.config import get_settings
from chalicelib.observability import logger
from chalicelib.schemas.orders import OrderMessage
from chalicelib.services import orders as service

BATCH_SIZE = 10
BATCHING_WINDOW_SECONDS = 1

orders_queue = Blueprint(__name__)
# Report failures even when every record failed, instead of raising: the outcome is the same
# (all redelivered) but the function does not show as errored for one poison batch.
_processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@orders_queue.on_sqs_message(
    queue=get_settings().orders_queue,
    batch_size=BATCH_SIZE,
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def handle_order_messages(event: SQSEvent) -> dict[str, Any]:
    """Start the saga of each order in the batch; return the records that failed."""
    response = process_partial_response(
        event=event.to_dict(),
        record_handler=_start_saga,
        processor=_processor,
        context=cast(LambdaContext, event.context),
    )
    return dict(response)


def _start_saga(record: SQSRecord) -> None:
    message = OrderMessage.model_validate_json(record.body)
    logger.set_correlation_id(message.correlation_id or record.message_id)
    service.start_order_saga(message)
