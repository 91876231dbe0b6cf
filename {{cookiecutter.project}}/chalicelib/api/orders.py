"""Orders REST API: place an order (202, processed asynchronously) and read orders."""

from chalice.app import Response

from chalicelib.api.routing import ApiBlueprint, json_response
from chalicelib.errors import Conflict, NotFound
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.orders import {% if cookiecutter.include_auth == 'y' %}Order, OrderCreate, OrderRequest, PlaceOrder, PlaceOrderHeaders{% else %}Order, OrderCreate, PlaceOrder, PlaceOrderHeaders{% endif %}
from chalicelib.services import orders as service

orders = ApiBlueprint(__name__)


@orders.route(
    "/orders",
    methods=["POST"],
    body={% if cookiecutter.include_auth == 'y' %}OrderRequest{% else %}OrderCreate{% endif %},
    headers=PlaceOrderHeaders,
    response=Order,
    status=202,
    errors=(Conflict,),
    location=True,
)
{%- if cookiecutter.include_auth == 'y' %}
def place_order(body: OrderRequest, headers: PlaceOrderHeaders, caller: Principal) -> Response:
    """Accept the caller's order: 202 with Location; retry safely with the same Idempotency-Key header."""
    order_create = OrderCreate(user_id=caller.user_id, **body.model_dump())
    request = PlaceOrder(idempotency_key=headers.idempotency_key, order=order_create)
{%- else %}
def place_order(body: OrderCreate, headers: PlaceOrderHeaders) -> Response:
    """Accept an order: 202 with Location; retry safely with the same Idempotency-Key header."""
    request = PlaceOrder(idempotency_key=headers.idempotency_key, order=body)
{%- endif %}
    order = service.place_order(request, orders.lambda_context)
    return json_response(order, status=202, headers={"Location": f"/orders/{order.id}"})


@orders.route("/orders/{order_id}", methods=["GET"], response=Order, errors=(NotFound,))
{%- if cookiecutter.include_auth == 'y' %}
def get_order(order_id: str, caller: Principal) -> Response:
    """Return one of the caller's orders and its status (anyone's for an admin)."""
    return json_response(service.read_order(caller, order_id))
{%- else %}
def get_order(order_id: str) -> Response:
    """Return one order and its status."""
    return json_response(service.get_order(order_id))
{%- endif %}


@orders.route("/users/{user_id}/orders", methods=["GET"], query=PageQuery, response=Page[Order], errors=(NotFound,))
{%- if cookiecutter.include_auth == 'y' %}
def list_user_orders(user_id: str, query: PageQuery, caller: Principal) -> Response:
    """List the caller's orders a page at a time (?limit=1..100&cursor=<next>); anyone's for an admin."""
    return json_response(service.list_user_orders(caller, user_id, query))
{%- else %}
def list_user_orders(user_id: str, query: PageQuery) -> Response:
    """List a user's orders a page at a time (?limit=1..100&cursor=<next>)."""
    return json_response(service.list_user_orders(user_id, query))
{%- endif %}
