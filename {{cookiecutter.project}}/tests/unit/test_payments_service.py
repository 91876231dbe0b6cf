"""The fake payment provider's deterministic outcomes, and charge/refund at most once."""

import pytest

from chalicelib.errors import PaymentDeclined, TransientError
from chalicelib.schemas.orders import PaymentStatus
from chalicelib.services import payments
from tests.orders_support import given_catalogue, given_order, given_user

ORDER_ID = "00000000-0000-4000-8000-000000000001"


@pytest.mark.parametrize("token", ["tok_approve", "tok_visa", "tok_transient_x"])
def test_provider_approves_ordinary_tokens(token: str) -> None:
    assert payments.PROVIDER.charge(token, 100, ORDER_ID, attempt=1) == "ch_00000000000040008000000000000001"


def test_provider_declines_decline_tokens_on_every_attempt() -> None:
    for attempt in (1, 2, 5):
        with pytest.raises(PaymentDeclined):
            payments.PROVIDER.charge("tok_decline", 100, ORDER_ID, attempt)


def test_provider_fails_transiently_for_the_first_n_attempts_then_approves() -> None:
    for attempt in (1, 2):
        with pytest.raises(TransientError):
            payments.PROVIDER.charge("tok_transient_2", 100, ORDER_ID, attempt)
    assert payments.PROVIDER.charge("tok_transient_2", 100, ORDER_ID, attempt=3).startswith("ch_")


@pytest.mark.usefixtures("aws")
def test_charge_is_made_once_and_a_retry_returns_it() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=2)
    first = payments.charge_order(order)
    assert first.amount_cents == 2 * 6900 and first.status is PaymentStatus.CHARGED
    assert payments.charge_order(order) == first


@pytest.mark.usefixtures("aws")
def test_transient_failures_are_counted_per_order_until_success() -> None:
    given_catalogue()
    order = given_order(given_user(), token="tok_transient_2")
    for _ in range(2):
        with pytest.raises(TransientError):
            payments.charge_order(order)
    assert payments.payment_of(order.id) is None
    assert payments.charge_order(order).status is PaymentStatus.CHARGED


@pytest.mark.usefixtures("aws")
def test_a_declined_charge_records_nothing() -> None:
    given_catalogue()
    order = given_order(given_user(), token="tok_decline")
    with pytest.raises(PaymentDeclined):
        payments.charge_order(order)
    assert payments.payment_of(order.id) is None


@pytest.mark.usefixtures("aws")
def test_refund_happens_once_and_only_after_a_charge() -> None:
    given_catalogue()
    order = given_order(given_user())
    assert payments.refund_order(order.id) is False
    payments.charge_order(order)
    assert payments.refund_order(order.id) is True
    assert payments.refund_order(order.id) is False
    payment = payments.payment_of(order.id)
    assert payment is not None and payment.status is PaymentStatus.REFUNDED
    assert payments.charge_order(order).status is PaymentStatus.REFUNDED  # never re-charged
