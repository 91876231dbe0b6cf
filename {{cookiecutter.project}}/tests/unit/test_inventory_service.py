"""Inventory: seeding, all-or-nothing reservations, release once, and stock conservation."""

import contextlib
import random

import pytest

from chalicelib.errors import OutOfStock
from chalicelib.schemas.orders import Order
from chalicelib.services import inventory
from tests.orders_support import given_catalogue, given_order, given_user

pytestmark = pytest.mark.usefixtures("aws")


def stock() -> dict[str, tuple[int, int]]:
    return {p.id: (p.available, p.reserved) for p in inventory.list_products()}


def test_seeding_twice_creates_once_and_never_resets_stock() -> None:
    assert inventory.seed_products() == len(inventory.SEED_PRODUCTS)
    order = given_order(given_user(), kettle=2)
    inventory.reserve_stock(order)
    assert inventory.seed_products() == 0
    assert stock()["kettle"] == (23, 2)


def test_reserve_moves_stock_once_even_when_retried() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=3, grinder=1)
    assert inventory.reserve_stock(order) is True
    assert inventory.reserve_stock(order) is False
    assert stock()["kettle"] == (22, 3) and stock()["grinder"] == (39, 1)


def test_out_of_stock_reserves_nothing_and_names_the_product() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=1, limited_mug=6)
    before = stock()
    with pytest.raises(OutOfStock) as raised:
        inventory.reserve_stock(order)
    assert "limited-mug" in raised.value.message and "kettle" not in raised.value.message
    assert stock() == before


def test_release_returns_stock_once() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=4)
    inventory.reserve_stock(order)
    assert inventory.release_stock(order.id) is True
    assert inventory.release_stock(order.id) is False
    assert stock()["kettle"] == (25, 0)


def test_release_before_reserve_blocks_a_late_reserve() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=1)
    assert inventory.release_stock(order.id) is False
    assert inventory.reserve_stock(order) is False
    assert stock()["kettle"] == (25, 0)


def test_stock_is_conserved_under_random_reserves_releases_and_retries() -> None:
    initial = given_catalogue()
    user = given_user()
    rng = random.Random(7)
    placed: list[Order] = []
    for _ in range(30):
        quantities = {name: rng.randint(1, 4) for name in rng.sample(["kettle", "grinder", "limited_mug"], 2)}
        placed.append(given_order(user, items=quantities))
    for _ in range(80):
        order = rng.choice(placed)
        if rng.random() < 0.6:
            with contextlib.suppress(OutOfStock):
                inventory.reserve_stock(order)
        else:
            inventory.release_stock(order.id)
    held = {product: 0 for product in initial}
    for order in placed:
        if inventory.reservation_held(order.id):
            for line in order.items:
                held[line.product_id] += line.quantity
    for product, (available, reserved) in stock().items():
        assert available >= 0 and reserved == held[product]
        assert available + reserved == initial[product]
