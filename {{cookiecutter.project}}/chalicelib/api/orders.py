"""Orders REST API: place an order (202, processed asynchronously) and read orders."""

import re

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response, parse_body, parse_id, parse_query
from chalicelib.errors import InvalidRequest, field_error
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.orders import IDEMPOTENCY_KEY_PATTERN, OrderCreate, PlaceOrder
from chalicelib.services import orders as service

orders = ApiBlueprint(__name__)


@orders.route("/orders", methods=["POST"])
def place_order() -> Response:
    """Accept an order: 202 with Location; retry safely with the same Idempotency-Key header."""
    request = orders.current_request
    key = request.headers.get(service.IDEMPOTENCY_HEADER)
    if key is not None and not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
        raise InvalidRequest(
            f"{service.IDEMPOTENCY_HEADER} is not valid",
            [field_error(service.IDEMPOTENCY_HEADER, "1-255 visible ASCII characters")],
        )
    body = parse_body(request, OrderCreate)
    order = service.place_order(PlaceOrder(idempotency_key=key, order=body), orders.lambda_context)
    return json_response(order, status=202, headers={"Location": f"/orders/{order.id}"})


@orders.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id: str) -> Response:
    """Return one order and its status."""
    return json_response(service.get_order(parse_id(order_id)))


@orders.route("/users/{user_id}/orders", methods=["GET"])
def list_user_orders(user_id: str) -> Response:
    """List a user's orders a page at a time (?limit=1..100&cursor=<next>)."""
    user_id = parse_id(user_id)
    return json_response(service.list_user_orders(user_id, parse_query(orders.current_request, PageQuery)))
