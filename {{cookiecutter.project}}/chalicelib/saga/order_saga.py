"""The order saga's task functions; order_saga.asl.json wires them together.

Each task parses the execution input, calls one service step and returns a small result.
Errors propagate with their class name as the Step Functions error name: TransientError is
retried by the state machine, OutOfStock / PaymentDeclined go straight to compensation.
"""

from collections.abc import Callable
from typing import Any

from chalice.app import Blueprint

from chalicelib.schemas.orders import SagaInput, StepResult
from chalicelib.services import orders as service

order_saga = Blueprint(__name__)

Step = Callable[[SagaInput], StepResult]


def _run(step: Step, event: dict[str, Any]) -> dict[str, Any]:
    # The middleware tags the logs with the input's correlation id and publishes the step's metrics.
    return step(SagaInput.model_validate(event)).model_dump(mode="json")


@order_saga.lambda_function(name="reserve_inventory")
def reserve_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ReserveInventory task."""
    return _run(service.reserve_inventory, event)


@order_saga.lambda_function(name="charge_payment")
def charge_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ChargePayment task."""
    return _run(service.charge_payment, event)


@order_saga.lambda_function(name="confirm_order")
def confirm_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ConfirmOrder task."""
    return _run(service.confirm_order, event)


@order_saga.lambda_function(name="refund_payment")
def refund_payment(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """RefundPayment compensation."""
    return _run(service.refund_payment, event)


@order_saga.lambda_function(name="release_inventory")
def release_inventory(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """ReleaseInventory compensation."""
    return _run(service.release_inventory, event)


@order_saga.lambda_function(name="cancel_order")
def cancel_order(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """CancelOrder compensation: records the reason from the caught error."""
    return _run(service.cancel_order, event)
