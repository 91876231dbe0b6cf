"""Orders on devstack: every saga path asserted on its execution history, idempotent POST, DLQ + redrive.

Needs chalice-devstack's `devstack` fixture (its pytest plugin); runs in its own pytest process (`make e2e`).
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice_devstack.redrive import redrive
from chalice_devstack.testing import Devstack
from chalice_devstack.triggers.sqs import LONG_POLL_SECONDS

from scripts.redrive import dead_letter_pairs
from tests.orders_support import OrdersOnDevstack

HAPPY = ["ReserveInventory", "ChargePayment", "ConfirmOrder", "OrderConfirmed"]


@pytest.fixture(scope="module")
def user(orders: OrdersOnDevstack) -> str:
    """Given: a registered user."""
    return orders.user()


def run_order(orders: OrdersOnDevstack, user: str, token: str, items: dict[str, int]) -> dict[str, Any]:
    order = orders.place(user, token, items)
    return orders.wait_terminal([order["id"]])[order["id"]]


def test_happy_path_confirms_through_reserve_charge_confirm(orders: OrdersOnDevstack, user: str) -> None:
    before = orders.stock()["kettle"]
    order = run_order(orders, user, "tok_approve", {"kettle": 1})
    assert order["status"] == "CONFIRMED" and order["reason"] is None
    assert orders.states_entered(order["id"]) == HAPPY
    assert orders.payment_status(order["id"]) == "CHARGED"
    assert orders.stock()["kettle"] == (before[0] - 1, before[1] + 1)


def test_decline_releases_stock_and_cancels_without_refunding(orders: OrdersOnDevstack, user: str) -> None:
    before = orders.stock()["kettle"]
    order = run_order(orders, user, "tok_decline", {"kettle": 1})
    assert order["status"] == "CANCELLED" and order["reason"].startswith("PaymentDeclined")
    assert orders.states_entered(order["id"]) == [
        "ReserveInventory",
        "ChargePayment",
        "ReleaseInventory",
        "CancelOrder",
        "OrderCancelled",
    ]
    assert orders.payment_status(order["id"]) is None
    assert orders.stock()["kettle"] == before


def test_out_of_stock_cancels_straight_away(orders: OrdersOnDevstack, user: str) -> None:
    before = orders.stock()
    order = run_order(orders, user, "tok_approve", {"kettle": 1, "limited-mug": 50})
    assert order["status"] == "CANCELLED" and order["reason"].startswith("OutOfStock")
    assert orders.states_entered(order["id"]) == ["ReserveInventory", "CancelOrder", "OrderCancelled"]
    assert orders.stock() == before


def test_transient_payment_failures_are_retried_then_confirm(orders: OrdersOnDevstack, user: str) -> None:
    order = run_order(orders, user, "tok_transient_2", {"filter-papers": 1})
    assert order["status"] == "CONFIRMED"
    history = orders.history(order["id"])
    failures = [e["lambdaFunctionFailedEventDetails"]["error"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert failures == ["TransientError", "TransientError"]
    assert orders.states_entered(order["id"]) == HAPPY


def test_a_duplicate_post_with_the_same_key_makes_one_order_and_one_execution(
    orders: OrdersOnDevstack, user: str
) -> None:
    first = orders.place(user, "tok_approve", {"filter-papers": 1}, key="e2e-dup")
    second = orders.place(user, "tok_approve", {"filter-papers": 1}, key="e2e-dup")
    assert second == first
    assert orders.wait_terminal([first["id"]])[first["id"]]["status"] == "CONFIRMED"
    assert orders.executions_named(first["id"]) == 1
    status, body = orders.call(
        "POST",
        "/orders",
        {"user_id": user, "items": [{"product_id": "filter-papers", "quantity": 2}], "payment_token": "tok_approve"},
        {"Idempotency-Key": "e2e-dup"},
    )
    assert status == 422, body


@pytest.fixture
def quick_redelivery(orders: OrdersOnDevstack) -> Iterator[None]:
    """Given: a 1 s visibility timeout, so a failing message's three receives take seconds."""
    url = orders.queue_url()
    original = orders.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])["Attributes"]
    orders.sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
    yield
    orders.sqs.set_queue_attributes(QueueUrl=url, Attributes=original)


def send_poison(orders: OrdersOnDevstack) -> None:
    """A message the consumer can never parse, out of reach of every receive that began before now."""
    # A receive long-polling since before the timeout changed took the old 60 s when it began. SQS keeps
    # a delayed message from every receive until its delay ends, and no such receive outlives
    # LONG_POLL_SECONDS: so each receive of this message gets the 1 s timeout, with no wait here.
    orders.sqs.send_message(QueueUrl=orders.queue_url(), MessageBody="not json", DelaySeconds=LONG_POLL_SECONDS)


# slow: three receives a real visibility timeout apart, then a redrive; the unit and integration
# tests cover the batch failure and the redrive script, this proves moto's redrive policy end to end.
@pytest.mark.slow
@pytest.mark.usefixtures("quick_redelivery")
def test_a_poison_message_ends_in_the_dlq_and_a_redriven_order_completes(
    devstack: Devstack, orders: OrdersOnDevstack, user: str, tmp_path: Path
) -> None:
    send_poison(orders)
    # An order placed while the poison message fails completes all the same.
    order = orders.place(user, "tok_approve", {"filter-papers": 1})
    orders.wait_terminal([order["id"]])
    devstack.wait_until(lambda: orders.depth(dlq=True) >= 1, timeout=30, interval=0.25)
    assert orders.depth(dlq=True) == 1 and orders.depth() == 0
    # An order whose message died (say, during an outage) is finished by a redrive.
    stranded = orders.place(user, "tok_approve", {"espresso-beans": 1})
    orders.sqs.send_message(QueueUrl=orders.queue_url(dlq=True), MessageBody=json.dumps({"order_id": stranded["id"]}))
    result = redrive(orders.sqs, dead_letter_pairs("dev")["orders"], journal_dir=tmp_path)
    assert result["moved"] == 2
    assert orders.wait_terminal([stranded["id"]])[stranded["id"]]["status"] == "CONFIRMED"
    assert orders.executions_named(stranded["id"]) == 1
