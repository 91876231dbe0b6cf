"""Products REST API: the catalogue with current stock."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.schemas.common import Page
from chalicelib.schemas.inventory import Product
from chalicelib.services import inventory as service

products = ApiBlueprint(__name__)


@products.route("/products", methods=["GET"], response=Page[Product])
def list_products() -> Response:
    """List every product with its available and reserved stock."""
    return json_response(Page[Product](items=service.list_products()))
