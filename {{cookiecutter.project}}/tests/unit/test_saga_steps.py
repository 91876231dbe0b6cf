"""Each saga step and compensation, and re-running each one (Step Functions retries)."""

import pytest

from chalicelib.errors import Conflict, OutOfStock, PaymentDeclined, TransientError
from chalicelib.schemas.orders import Order, OrderStatus, PaymentStatus, SagaInput
from chalicelib.services import inventory, orders, payments
from tests.orders_support import given_catalogue, given_order, given_user

pytestmark = pytest.mark.usefixtures("aws")


def placed(token: str = "tok_approve", **quantities: int) -> tuple[Order, SagaInput]:
    given_catalogue()
    order = given_order(given_user(), token=token, items=quantities)
    return order, SagaInput(order_id=order.id)


def kettle_stock() -> tuple[int, int]:
    product = next(p for p in inventory.list_products() if p.id == "kettle")
    return product.available, product.reserved


def test_happy_path_steps_each_rerun_without_effect() -> None:
    order, step = placed(kettle=2)
    assert [orders.reserve_inventory(step).outcome for _ in range(2)] == ["reserved", "unchanged"]
    charges = {orders.charge_payment(step).outcome for _ in range(2)}
    assert [orders.confirm_order(step).outcome for _ in range(2)] == ["confirmed", "unchanged"]
    assert len(charges) == 1
    assert orders.get_order(order.id).status is OrderStatus.CONFIRMED
    assert kettle_stock() == (23, 2)


def test_compensations_each_rerun_without_effect() -> None:
    order, step = placed(kettle=2)
    orders.reserve_inventory(step)
    orders.charge_payment(step)
    failed = step.model_copy(update={"error": {"Error": "States.Timeout", "Cause": "took too long"}})
    assert [orders.refund_payment(failed).outcome for _ in range(2)] == ["refunded", "unchanged"]
    assert [orders.release_inventory(failed).outcome for _ in range(2)] == ["released", "unchanged"]
    assert [orders.cancel_order(failed).outcome for _ in range(2)] == ["cancelled", "unchanged"]
    cancelled = orders.get_order(order.id)
    assert cancelled.status is OrderStatus.CANCELLED and cancelled.reason == "States.Timeout: took too long"
    assert kettle_stock() == (25, 0)
    payment = payments.payment_of(order.id)
    assert payment is not None and payment.status is PaymentStatus.REFUNDED


def test_compensations_invoked_by_hand_leave_a_confirmed_order_whole(caplog: pytest.LogCaptureFixture) -> None:
    """Given a CONFIRMED order, when each compensation is invoked on it, then each is skipped with a logged reason."""
    order, step = placed(kettle=2)
    orders.reserve_inventory(step)
    orders.charge_payment(step)
    orders.confirm_order(step)
    compensations = (orders.refund_payment, orders.release_inventory, orders.cancel_order)
    assert [compensate(step).outcome for compensate in compensations] == ["skipped", "skipped", "skipped"]
    assert orders.get_order(order.id).status is OrderStatus.CONFIRMED
    assert kettle_stock() == (23, 2)
    payment = payments.payment_of(order.id)
    assert payment is not None and payment.status is PaymentStatus.CHARGED
    assert caplog.messages.count("compensation skipped: the order is CONFIRMED, not being compensated") == 3


def test_an_order_the_sweep_cancelled_mid_saga_is_still_compensated() -> None:
    """Given a reserved, charged order the sweep cancelled, when the saga compensates, then both are undone."""
    _, step = placed(kettle=2)
    orders.reserve_inventory(step)
    orders.charge_payment(step)
    orders.cancel_order(step)  # what the sweep's conditional PENDING -> CANCELLED does
    assert [orders.refund_payment(step).outcome, orders.release_inventory(step).outcome] == ["refunded", "released"]
    assert kettle_stock() == (25, 0)


def test_out_of_stock_is_a_business_error() -> None:
    _, step = placed(limited_mug=6)
    with pytest.raises(OutOfStock):
        orders.reserve_inventory(step)


def test_decline_is_a_business_error_and_transient_is_distinct() -> None:
    _, declined = placed("tok_decline")
    orders.reserve_inventory(declined)
    with pytest.raises(PaymentDeclined):
        orders.charge_payment(declined)
    _, flaky = placed("tok_transient_1")
    with pytest.raises(TransientError):
        orders.charge_payment(flaky)
    assert orders.charge_payment(flaky).outcome.startswith("ch_")
    assert not issubclass(TransientError, Conflict) and issubclass(PaymentDeclined, Conflict)


def test_cancel_takes_the_reason_from_a_lambda_error_cause() -> None:
    order, step = placed()
    cause = '{"errorMessage": "card declined for order x", "errorType": "PaymentDeclined"}'
    orders.cancel_order(step.model_copy(update={"error": {"Error": "PaymentDeclined", "Cause": cause}}))
    assert orders.get_order(order.id).reason == "PaymentDeclined: card declined for order x"


def test_a_cancelled_order_cannot_be_confirmed() -> None:
    order, step = placed()
    orders.cancel_order(step)
    with pytest.raises(Conflict):
        orders.confirm_order(step)
    assert orders.get_order(order.id).status is OrderStatus.CANCELLED
