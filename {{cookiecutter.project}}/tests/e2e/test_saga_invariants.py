"""Random orders through devstack: every invariant of the orders pipeline holds.

Every order ends CONFIRMED or CANCELLED (with a reason); stock is conserved; a payment is
charged at most once and refunded iff the order was cancelled after charging; one saga per order.

The full run (200 orders, retried payments included) is `slow`: `make test-all` and CI run it.
`make test` runs a smaller one with the same invariants and no retried payment: a retry waits
real IntervalSeconds, and test_orders_e2e exercises that path once.
"""

import random
from typing import Any

import pytest

from tests.orders_support import OrdersOnDevstack

FULL_RUN = 200
SMALL_RUN = 10
TOKENS = ["tok_approve"] * 6 + ["tok_decline", "tok_decline", "tok_transient_1", "tok_transient_2"]
UNRETRIED_TOKENS = [token for token in TOKENS if not token.startswith("tok_transient")]
PRODUCTS = ["espresso-beans", "filter-papers", "grinder", "kettle", "limited-mug"]
SEED = 20240601


def place_random_orders(orders: OrdersOnDevstack, count: int, tokens: list[str]) -> list[dict[str, Any]]:
    """Place count random orders for one new user; every fifth is POSTed twice with one key."""
    rng = random.Random(SEED)
    user = orders.user()
    placed = []
    for i in range(count):
        items = {p: rng.randint(1, 3) for p in rng.sample(PRODUCTS, rng.randint(1, 2))}
        # Like a client retrying a timeout: the second POST answers the first order.
        key = f"inv-{count}-{i}" if i % 5 == 0 else None
        order = orders.place(user, rng.choice(tokens), items, key=key)
        if key:
            assert orders.place(user, order["payment_token"], items, key=key)["id"] == order["id"]
        placed.append(order)
    return placed


def assert_every_order_finished(final: dict[str, dict[str, Any]]) -> None:
    """Every order is CONFIRMED or CANCELLED, a cancellation says why, and the run saw both."""
    stuck = [o["id"] for o in final.values() if o["status"] not in OrdersOnDevstack.TERMINAL]
    assert stuck == []
    assert all(o["reason"] for o in final.values() if o["status"] == "CANCELLED")
    assert {o["status"] for o in final.values()} == {"CONFIRMED", "CANCELLED"}


def assert_stock_conserved(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], final: dict[str, dict[str, Any]]
) -> None:
    """No unit is created or lost, and exactly the confirmed quantities stay reserved."""
    confirmed_qty = {p: 0 for p in before}
    for order in final.values():
        if order["status"] == "CONFIRMED":
            for line in order["items"]:
                confirmed_qty[line["product_id"]] += line["quantity"]
    for product, (available, reserved) in after.items():
        assert available + reserved == sum(before[product]), product
        assert reserved - before[product][1] == confirmed_qty[product], product
        assert available >= 0


def assert_payments_and_sagas_match(orders: OrdersOnDevstack, final: dict[str, dict[str, Any]]) -> None:
    """A confirmed order is charged, a cancelled one never charged or refunded; one execution each."""
    executions = orders.executions_by_name()
    for order in final.values():
        payment = orders.payment_status(order["id"])
        if order["status"] == "CONFIRMED":
            assert payment == "CHARGED"
        else:
            assert payment in (None, "REFUNDED")
        assert executions[order["id"]] == 1


def check_random_run(orders: OrdersOnDevstack, count: int, tokens: list[str], timeout: float) -> None:
    """Place a random run, wait for every order to finish, then check every invariant."""
    before = orders.stock()
    placed = place_random_orders(orders, count, tokens)
    final = orders.wait_terminal([o["id"] for o in placed], timeout=timeout)
    assert_every_order_finished(final)
    assert_stock_conserved(before, orders.stock(), final)
    assert_payments_and_sagas_match(orders, final)


@pytest.mark.slow
def test_random_orders_keep_every_invariant(orders: OrdersOnDevstack) -> None:
    """Given 200 random orders (declines and retried payments among them, one in five POSTed twice),
    when the pipeline has finished them, then every invariant holds."""
    check_random_run(orders, FULL_RUN, TOKENS, timeout=300)


def test_a_small_random_run_keeps_every_invariant(orders: OrdersOnDevstack) -> None:
    """Given 10 random orders (approvals and declines, one in five POSTed twice),
    when the pipeline has finished them, then every invariant holds."""
    check_random_run(orders, SMALL_RUN, UNRETRIED_TOKENS, timeout=60)
