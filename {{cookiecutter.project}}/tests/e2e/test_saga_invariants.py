"""200 random orders through devstack: every invariant of the orders pipeline holds.

Every order ends CONFIRMED or CANCELLED (with a reason); stock is conserved; a payment is
charged at most once and refunded iff the order was cancelled after charging.
"""

import random

import pytest
from chalice_devstack.testing import Devstack

from tests.orders_support import OrdersOnDevstack

ORDERS = 200
TOKENS = ["tok_approve"] * 6 + ["tok_decline", "tok_decline", "tok_transient_1", "tok_transient_2"]
PRODUCTS = ["espresso-beans", "filter-papers", "grinder", "kettle", "limited-mug"]


@pytest.fixture(scope="module")
def orders(devstack: Devstack) -> OrdersOnDevstack:
    """Given: a running devstack (seeded catalogue) driven over HTTP and its AWS endpoint."""
    return OrdersOnDevstack(devstack.api_url, devstack.client, devstack.region)


def test_random_orders_keep_every_invariant(orders: OrdersOnDevstack) -> None:
    rng = random.Random(20240601)
    user = orders.user()
    before = orders.stock()
    placed = []
    for i in range(ORDERS):
        items = {p: rng.randint(1, 3) for p in rng.sample(PRODUCTS, rng.randint(1, 2))}
        # Every fifth order is POSTed twice with one key, like a client retrying a timeout.
        key = f"inv-{i}" if i % 5 == 0 else None
        order = orders.place(user, rng.choice(TOKENS), items, key=key)
        if key:
            assert orders.place(user, order["payment_token"], items, key=key)["id"] == order["id"]
        placed.append(order)
    final = orders.wait_terminal([o["id"] for o in placed], timeout=300)

    stuck = [o["id"] for o in final.values() if o["status"] not in orders.TERMINAL]
    assert stuck == []
    assert all(o["reason"] for o in final.values() if o["status"] == "CANCELLED")
    statuses = {o["status"] for o in final.values()}
    assert statuses == {"CONFIRMED", "CANCELLED"}

    after = orders.stock()
    confirmed_qty = {p: 0 for p in before}
    for order in final.values():
        if order["status"] == "CONFIRMED":
            for line in order["items"]:
                confirmed_qty[line["product_id"]] += line["quantity"]
    for product, (available, reserved) in after.items():
        assert available + reserved == sum(before[product]), product
        assert reserved - before[product][1] == confirmed_qty[product], product
        assert available >= 0

    for order in final.values():
        payment = orders.payment_status(order["id"])
        if order["status"] == "CONFIRMED":
            assert payment == "CHARGED"
        else:
            assert payment in (None, "REFUNDED")
        assert orders.executions_named(order["id"]) == 1
