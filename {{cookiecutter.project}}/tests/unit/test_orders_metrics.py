"""The orders' business metrics: placed, confirmed, cancelled by reason, each counted once."""

from typing import Any

import pytest
from chalice.local import LambdaContext

from chalicelib.config import get_settings
from chalicelib.errors import PaymentDeclined
from chalicelib.observability import metrics
from chalicelib.saga import order_saga
from chalicelib.schemas.orders import SagaInput
from chalicelib.services import orders
from tests.metrics_support import emf_lines, no_leftover_metrics, published  # noqa: F401 - an autouse fixture
from tests.orders_support import given_catalogue, given_order, given_user

pytestmark = pytest.mark.usefixtures("aws")


def metric_names(emf: dict[str, Any]) -> list[str]:
    return [m["Name"] for d in emf["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]


def placed_order(token: str = "tok_approve") -> SagaInput:
    given_catalogue()
    return SagaInput(order_id=given_order(given_user(), token=token).id)


def test_placing_an_order_counts_it_once_even_when_the_request_is_replayed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a user and the catalogue
    given_catalogue()
    user_id = given_user()
    capsys.readouterr()
    # When the same order is placed twice with one Idempotency-Key
    first = given_order(user_id, key="replayed-key")
    again = given_order(user_id, key="replayed-key")
    # Then one OrdersPlaced is published, in the service's namespace
    assert first.id == again.id
    [emf] = published(capsys)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == get_settings().service_name
    assert metric_names(emf) == [orders.ORDERS_PLACED] and emf[orders.ORDERS_PLACED] == [1.0]


def test_confirming_counts_once_although_the_step_is_retried(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an order whose stock is reserved and payment charged
    step = placed_order()
    orders.reserve_inventory(step)
    orders.charge_payment(step)
    published(capsys)
    # When the confirm step runs, and is retried
    orders.confirm_order(step)
    orders.confirm_order(step)
    # Then OrdersConfirmed is published once
    [emf] = published(capsys)
    assert metric_names(emf) == [orders.ORDERS_CONFIRMED] and emf[orders.ORDERS_CONFIRMED] == [1.0]


def test_cancelling_counts_once_with_the_error_name_as_the_reason(capsys: pytest.CaptureFixture[str]) -> None:
    # Given an order whose payment was declined
    step = placed_order("tok_decline")
    orders.reserve_inventory(step)
    with pytest.raises(PaymentDeclined):
        orders.charge_payment(step)
    published(capsys)
    failed = step.model_copy(update={"error": {"Error": "PaymentDeclined", "Cause": '{"errorMessage": "declined"}'}})
    # When the cancel compensation runs, and is retried
    orders.cancel_order(failed)
    orders.cancel_order(failed)
    # Then one OrdersCancelled is published, its reason the error's name (not its message)
    [emf] = published(capsys)
    assert metric_names(emf) == [orders.ORDERS_CANCELLED] and emf[orders.ORDERS_CANCELLED] == [1.0]
    assert emf["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["service", "reason"]]
    assert (emf["service"], emf["reason"]) == (get_settings().service_name, "PaymentDeclined")


def test_a_cancel_without_a_caught_error_has_a_reason_too() -> None:
    # Given a cancel step with no error; When its reason is named; Then it is a fixed name
    assert orders.cancel_reason_name(SagaInput(order_id="00000000-0000-4000-8000-000000000000")) == "Cancelled"


def test_a_saga_task_invocation_publishes_its_outcome_as_one_emf_line(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a reserved and charged order
    step = placed_order()
    orders.reserve_inventory(step)
    orders.charge_payment(step)
    published(capsys)
    # When the ConfirmOrder task function is invoked
    result = order_saga.confirm_order(step.model_dump(mode="json"), LambdaContext("confirm_order", 128))
    # Then it flushed its own metrics: one EMF line (besides a cold start's), nothing left for later
    assert result["outcome"] == "confirmed"
    [emf] = [line for line in emf_lines(capsys.readouterr().out) if "ColdStart" not in line]
    assert emf[orders.ORDERS_CONFIRMED] == [1.0]
    assert not metrics.metric_set
