"""Orders and products API through chalice.test.Client: placing (Idempotency-Key), reading, errors."""

import json
from typing import Any

import pytest

{% if cookiecutter.include_auth == 'y' -%}
from tests.auth_support import as_user
{% endif -%}
from tests.orders_support import given_catalogue, given_user

MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def user(client: Any) -> str:
    """Given: the seeded catalogue and a registered user; returns the user id."""
    given_catalogue()
    return given_user()
{%- if cookiecutter.include_auth == 'y' %}


def post_order(client: Any, body: dict[str, Any], key: str | None = None) -> Any:
    """POST /orders signed in as the body's user_id (the request body itself names no user)."""
    order = {name: value for name, value in body.items() if name != "user_id"}
    headers = {"Content-Type": "application/json", **as_user(body["user_id"])}
    headers |= {"Idempotency-Key": key} if key else {}
    return client.http.post("/orders", body=json.dumps(order), headers=headers)
{%- else %}


def post_order(client: Any, body: dict[str, Any], key: str | None = None) -> Any:
    headers = {"Content-Type": "application/json", **({"Idempotency-Key": key} if key else {})}
    return client.http.post("/orders", body=json.dumps(body), headers=headers)
{%- endif %}


def body(user: str, token: str = "tok_approve", quantity: int = 1) -> dict[str, Any]:
    return {"user_id": user, "items": [{"product_id": "kettle", "quantity": quantity}], "payment_token": token}


def error_fields(response: Any) -> list[str]:
    return [detail["field"] for detail in response.json_body["error"]["details"]]


def test_post_order_is_202_pending_with_location(client: Any, user: str) -> None:
    response = post_order(client, body(user, quantity=2))
    assert response.status_code == 202, response.json_body
    order = response.json_body
    assert order["status"] == "PENDING" and order["total_cents"] == 13800
    assert response.headers["Location"] == f"/orders/{order['id']}"
    assert client.http.get(f"/orders/{order['id']}").json_body == order


def test_retry_with_the_same_key_returns_the_same_order(client: Any, user: str) -> None:
    first = post_order(client, body(user), key="retry-1")
    second = post_order(client, body(user), key="retry-1")
    assert second.status_code == 202 and second.json_body == first.json_body
    assert [o["id"] for o in client.http.get(f"/users/{user}/orders").json_body["items"]] == [first.json_body["id"]]


def test_same_key_with_a_different_body_is_422(client: Any, user: str) -> None:
    post_order(client, body(user), key="retry-2")
    response = post_order(client, body(user, quantity=3), key="retry-2")
    assert response.status_code == 422 and error_fields(response) == ["Idempotency-Key"]


def test_a_malformed_key_is_400(client: Any, user: str) -> None:
    response = post_order(client, body(user), key="x" * 256)
    assert response.status_code == 400 and error_fields(response) == ["Idempotency-Key"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"items": []}, "items"),
        ({"items": [{"product_id": "kettle", "quantity": 0}]}, "items.0.quantity"),
        ({"items": [{"product_id": "kettle", "quantity": 1}] * 2}, "items"),
        ({"items": [{"product_id": "nope", "quantity": 1}]}, "items.0.product_id"),
        ({"payment_token": "card-number"}, "payment_token"),
        ({"user_id": MISSING}, "user_id"),
{%- if cookiecutter.include_auth != 'y' %}
        ({"user_id": "not-a-uuid"}, "user_id"),
{%- endif %}
        ({"coupon": "FREE"}, "coupon"),
    ],
    ids=[
        "no-items",
        "zero-quantity",
        "repeated-product",
        "unknown-product",
        "bad-token",
{%- if cookiecutter.include_auth == 'y' %}
        "caller-without-profile",
{%- else %}
        "no-such-user",
        "bad-user-id",
{%- endif %}
        "unknown-field",
    ],
)
def test_invalid_order_is_422_naming_the_field(client: Any, user: str, change: dict[str, Any], field: str) -> None:
    response = post_order(client, {**body(user), **change})
    assert response.status_code == 422, response.json_body
    assert field in error_fields(response)


def test_user_orders_are_paginated_oldest_first(client: Any, user: str) -> None:
    ids = [post_order(client, body(user)).json_body["id"] for _ in range(3)]
    first = client.http.get(f"/users/{user}/orders?limit=2").json_body
    second = client.http.get(f"/users/{user}/orders?limit=2&cursor={first['next']}").json_body
    assert [o["id"] for o in first["items"]] == ids[:2]
    assert [o["id"] for o in second["items"]] == ids[2:] and second.get("next") is None


def test_orders_of_a_missing_user_is_404_and_a_missing_order_is_404(client: Any, user: str) -> None:
    assert client.http.get(f"/users/{MISSING}/orders").status_code == 404
    assert client.http.get(f"/orders/{MISSING}").status_code == 404
    assert client.http.get("/orders/not-a-uuid").status_code == 400


def test_products_list_the_catalogue_with_stock(client: Any, user: str) -> None:
    products = {p["id"]: p for p in client.http.get("/products").json_body["items"]}
    assert products["kettle"] == {
        "id": "kettle",
        "name": "Gooseneck kettle",
        "price_cents": 6900,
        "available": 25,
        "reserved": 0,
    }


def test_a_cursor_only_works_for_the_listing_that_issued_it(client: Any, user: str) -> None:
    # Given a cursor of one user's orders, and another user
    for _ in range(2):
        post_order(client, body(user))
    cursor = client.http.get(f"/users/{user}/orders?limit=1").json_body["next"]
    other = given_user()
    # When it is sent to the other user's orders, or to GET /users
    foreign = [client.http.get(f"/users/{other}/orders?cursor={cursor}"), client.http.get(f"/users?cursor={cursor}")]
    # Then both are 400 naming cursor, and the issuing listing still accepts it
    assert [(r.status_code, error_fields(r)) for r in foreign] == [(400, ["cursor"])] * 2
    assert client.http.get(f"/users/{user}/orders?limit=1&cursor={cursor}").status_code == 200
{%- if cookiecutter.include_auth == 'y' %}


def test_a_body_naming_the_buyer_is_422(client: Any, user: str) -> None:
    # The buyer is the signed-in caller: a body that names one is refused, not obeyed.
    order = {"user_id": user, "items": [{"product_id": "kettle", "quantity": 1}], "payment_token": "tok_approve"}
    headers = {"Content-Type": "application/json", **as_user(user)}
    response = client.http.post("/orders", body=json.dumps(order), headers=headers)
    assert response.status_code == 422 and error_fields(response) == ["user_id"]


def test_alice_cannot_see_bobs_orders_an_admin_can(client: Any, user: str) -> None:
    # Given Bob's order, and Alice
    order = post_order(client, body(user)).json_body
    alice = given_user()
    # Then Alice gets 404 for the order and Bob's listing, as if neither existed; Bob and an admin see them
    assert client.http.get(f"/orders/{order['id']}", headers=as_user(alice)).status_code == 404
    assert client.http.get(f"/users/{user}/orders", headers=as_user(alice)).status_code == 404
    assert client.http.get(f"/orders/{order['id']}", headers=as_user(user)).json_body == order
    assert client.http.get(f"/orders/{order['id']}").json_body == order


def test_one_idempotency_key_is_per_buyer(client: Any, user: str) -> None:
    # Two buyers who happen to pick the same key each get their own order
    first = post_order(client, body(user), key="same-key").json_body
    second = post_order(client, body(given_user()), key="same-key").json_body
    assert first["id"] != second["id"]
{%- endif %}
