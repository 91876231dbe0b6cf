"""Catalogue management through chalice.test.Client: admins create products and set stock, no one else."""

import json
from typing import Any

from tests.auth_support import as_user, new_user_id
from tests.orders_support import given_catalogue


def put_product(client: Any, product_id: str, body: dict[str, Any], admin: bool = True) -> Any:
    headers = {"Content-Type": "application/json", **as_user(new_user_id(), admin=admin)}
    return client.http.put(f"/products/{product_id}", body=json.dumps(body), headers=headers)


def catalogue(client: Any) -> dict[str, Any]:
    return {product["id"]: product for product in client.http.get("/products").json_body["items"]}


def test_an_admin_adds_a_product_and_restocks_one(client: Any) -> None:
    # Given the seeded catalogue
    given_catalogue()
    # When an admin adds a product and sets the kettle's stock
    added = put_product(client, "scale", {"name": "Coffee scale", "price_cents": 3900, "available": 12})
    restocked = put_product(client, "kettle", {"name": "Gooseneck kettle", "price_cents": 6900, "available": 80})
    # Then both answer 200 with the product, and the catalogue shows them
    assert added.status_code == 200 and added.json_body == {
        "id": "scale",
        "name": "Coffee scale",
        "price_cents": 3900,
        "available": 12,
        "reserved": 0,
    }
    assert restocked.status_code == 200
    assert catalogue(client)["kettle"]["available"] == 80 and "scale" in catalogue(client)


def test_a_user_who_is_not_an_admin_gets_403_and_nothing_changes(client: Any) -> None:
    given_catalogue()
    response = put_product(client, "kettle", {"name": "Free kettle", "price_cents": 0, "available": 999}, admin=False)
    assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"
    assert catalogue(client)["kettle"]["price_cents"] == 6900


def test_a_bad_product_id_or_body_is_refused_naming_the_field(client: Any) -> None:
    bad_id = put_product(client, "Not An Id", {"name": "x", "price_cents": 1, "available": 1})
    bad_body = put_product(client, "scale", {"name": "x", "price_cents": -1, "available": 1})
    assert bad_id.status_code == 400 and bad_id.json_body["error"]["details"][0]["field"] == "product_id"
    assert bad_body.status_code == 422 and bad_body.json_body["error"]["details"][0]["field"] == "price_cents"


def test_a_boolean_is_not_a_stock_count(client: Any) -> None:
    """Given `available: false` (pydantic's lax mode would read 0), then 422 naming the field (the fuzz found it)."""
    response = put_product(client, "scale", {"name": "Coffee scale", "price_cents": 3900, "available": False})
    assert response.status_code == 422 and response.json_body["error"]["details"][0]["field"] == "available"
