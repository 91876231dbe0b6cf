"""Orders REST API: place an order (202, processed asynchronously) and read orders."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.errors import Conflict, NotFound
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.orders import Order, OrderCreate, PlaceOrder, PlaceOrderHeaders
from chalicelib.services import orders as service

orders = ApiBlueprint(__name__)


@orders.route(
    "/orders",
    methods=["POST"],
    body=OrderCreate,
    headers=PlaceOrderHeaders,
    response=Order,
    status=202,
    errors=(Conflict,),
    location=True,
)
def place_order(body: OrderCreate, headers: PlaceOrderHeaders) -> Response:
    """Accept an order: 202 with Location; retry safely with the same Idempotency-Key header."""
    request = PlaceOrder(idempotency_key=headers.idempotency_key, order=body)
    order = service.place_order(request, orders.lambda_context)
    return json_response(order, status=202, headers={"Location": f"/orders/{order.id}"})


@orders.route("/orders/{order_id}", methods=["GET"], response=Order, errors=(NotFound,))
def get_order(order_id: str) -> Response:
    """Return one order and its status."""
    return json_response(service.get_order(order_id))


@orders.route("/users/{user_id}/orders", methods=["GET"], query=PageQuery, response=Page[Order], errors=(NotFound,))
def list_user_orders(user_id: str, query: PageQuery) -> Response:
    """List a user's orders a page at a time (?limit=1..100&cursor=<next>)."""
    return json_response(service.list_user_orders(user_id, query))
