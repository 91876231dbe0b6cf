"""What every SQS consumer shares: Powertools partial batch processing.

Only the records that failed are returned in batchItemFailures (each mapping has
ReportBatchItemFailures in infra/resources.yaml), so SQS redelivers just those, and after
the queue's maxReceiveCount a record lands in its DLQ. A malformed message is one failed
record, never a crashed batch. The business metrics the records recorded go out as one EMF
line per batch (one invocation, chalicelib/middleware.py).
"""

from collections.abc import Callable
from typing import Any, cast

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from chalice.app import SQSEvent


def process_sqs_batch(event: SQSEvent, record_handler: Callable[[SQSRecord], None]) -> dict[str, Any]:
    """Run record_handler on each record; return {"batchItemFailures": [...]} naming those that raised."""
    response = process_partial_response(
        event=event.to_dict(),
        record_handler=record_handler,
        # A processor per batch: it holds the batch's results, and devstack may run two consumers
        # in one process at once. Failures are reported even when every record failed, instead of
        # raising: all are redelivered either way, and the function does not show as errored.
        processor=BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False),
        context=cast(LambdaContext, event.context),
    )
    return dict(response)
