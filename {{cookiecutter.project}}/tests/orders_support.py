"""Givens shared by the orders tests: a user, the seeded catalogue, a placed order."""

import uuid

from chalicelib.schemas.orders import Order, OrderCreate, OrderLine, PlaceOrder
from chalicelib.schemas.users import UserCreate
from chalicelib.services import inventory, orders, users


def given_user() -> str:
    """Given: a registered user; returns its id."""
    return users.create_user(UserCreate(name="Ada", email=f"{uuid.uuid4().hex[:12]}@example.com")).id


def given_catalogue() -> dict[str, int]:
    """Given: the seeded products; returns available stock by product id."""
    inventory.seed_products()
    return {product.id: product.available for product in inventory.list_products()}


def order_body(user_id: str, token: str = "tok_approve", **quantities: int) -> OrderCreate:
    """An order body: product_id=quantity keyword pairs (underscores stand for hyphens)."""
    lines = [
        OrderLine(product_id=name.replace("_", "-"), quantity=q) for name, q in (quantities or {"kettle": 1}).items()
    ]
    return OrderCreate(user_id=user_id, items=lines, payment_token=token)


def given_order(
    user_id: str,
    *,
    token: str = "tok_approve",
    key: str | None = None,
    items: dict[str, int] | None = None,
    **quantities: int,
) -> Order:
    """Given: a PENDING order placed through the service (and enqueued); items or product=quantity pairs."""
    body = order_body(user_id, token, **(items or quantities))
    return orders.place_order(PlaceOrder(idempotency_key=key, order=body))
