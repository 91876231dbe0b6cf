"""Catalogue management for admins: create a product, change its price or restock it."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.errors import Forbidden
from chalicelib.schemas.auth import Principal
from chalicelib.schemas.inventory import Product, ProductChange, ProductPath
from chalicelib.services import inventory as service

product_admin = ApiBlueprint(__name__)


@product_admin.route(
    "/products/{product_id}",
    methods=["PUT"],
    params=ProductPath,
    body=ProductChange,
    response=Product,
    errors=(Forbidden,),
)
def save_product(product_id: str, body: ProductChange, caller: Principal) -> Response:
    """Create or change a product and set its available stock (admins; 403 for anyone else)."""
    return json_response(service.save_product(caller, product_id, body))
