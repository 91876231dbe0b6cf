"""The orders queue consumer: starts one saga execution per order message.

Partial batch failure (events/sqs_batch.py): only the records that failed are redelivered;
after maxReceiveCount (3) a record lands in the orders DLQ.
"""

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import Blueprint, SQSEvent

from chalicelib.config import get_settings
from chalicelib.events.sqs_batch import process_sqs_batch
from chalicelib.observability import correlated
from chalicelib.schemas.orders import OrderMessage
from chalicelib.services import orders as service

BATCH_SIZE = 10
BATCHING_WINDOW_SECONDS = 1

orders_queue = Blueprint(__name__)


@orders_queue.on_sqs_message(
    queue=get_settings().orders_queue,
    batch_size=BATCH_SIZE,
    maximum_batching_window_in_seconds=BATCHING_WINDOW_SECONDS,
)
def handle_order_messages(event: SQSEvent) -> dict[str, Any]:
    """Start the saga of each order in the batch; return the records that failed."""
    return process_sqs_batch(event, _start_saga)


def _start_saga(record: SQSRecord) -> None:
    message = OrderMessage.model_validate_json(record.body)
    with correlated(message.correlation_id or record.message_id):
        service.start_order_saga(message)
