"""Givens shared by the orders tests: a user, the seeded catalogue, a placed order."""

import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from chalicelib.db.users import users_repository
from chalicelib.schemas.orders import Order, OrderCreate, OrderLine, PlaceOrder
from chalicelib.schemas.users import UserCreate
from chalicelib.services import inventory, orders


def given_user() -> str:
    """Given: a registered user; returns its id."""
    return users_repository().create(UserCreate(name="Ada", email=f"{uuid.uuid4().hex[:12]}@example.com")).id


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


class OrdersOnDevstack:
    """Drives the orders pipeline of a running devstack over HTTP and boto3 (e2e tests)."""

    TERMINAL = frozenset({"CONFIRMED", "CANCELLED"})
{%- if cookiecutter.include_auth == 'y' %}

    def __init__(self, api_url: str, clients: Callable[[str], Any], region: str, sign_in: Callable[..., str]) -> None:
        """sign_in(username, groups) returns an ID token of the devstack's user pool (chalice_devstack.testing)."""
        from chalicelib.config import get_settings

        self.sign_in = sign_in
        self.tokens: dict[str, str] = {}
        # Reads (order status, stock) go as an admin: the tests follow every user's orders.
        self.admin_token = sign_in("e2e-admin", ["admin"])
{%- else %}

    def __init__(self, api_url: str, clients: Callable[[str], Any], region: str) -> None:
        from chalicelib.config import get_settings
{%- endif %}

        self.api_url = api_url.rstrip("/")
        self.settings = get_settings()
        self.sqs = clients("sqs")
        self.sfn = clients("stepfunctions")
        self.dynamodb = clients("dynamodb")
        self.region = region

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One JSON request; returns (status, body)."""
        import urllib.error
        import urllib.request

        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            self.api_url + path,
            data=data,
            method=method,
            headers={
                "Content-Type": "application/json",
{%- if cookiecutter.include_auth == 'y' %}
                "Authorization": self.admin_token,
{%- endif %}
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def user(self) -> str:
        """A new user's id."""
{%- if cookiecutter.include_auth == 'y' %}
        name = f"e2e-{uuid.uuid4().hex[:12]}"
        token = self.sign_in(name, [])
        profile = {"name": "e2e", "email": f"{name}@example.com"}
        status, body = self.call("PUT", "/users/me", profile, {"Authorization": token})
        assert status == 200, body
        self.tokens[body["id"]] = token
{%- else %}
        status, body = self.call("POST", "/users", {"name": "e2e", "email": f"e2e-{uuid.uuid4().hex[:12]}@example.com"})
        assert status == 201, body
{%- endif %}
        return str(body["id"])

    def place(self, user_id: str, token: str, items: dict[str, int], key: str | None = None) -> dict[str, Any]:
        """POST /orders; asserts 202."""
        body = {
{%- if cookiecutter.include_auth == 'y' %}
            "items": [{"product_id": p, "quantity": q} for p, q in items.items()],
            "payment_token": token,
        }
        headers = {"Authorization": self.tokens[user_id], **({"Idempotency-Key": key} if key else {})}
        status, order = self.call("POST", "/orders", body, headers)
{%- else %}
            "user_id": user_id,
            "items": [{"product_id": p, "quantity": q} for p, q in items.items()],
            "payment_token": token,
        }
        status, order = self.call("POST", "/orders", body, {"Idempotency-Key": key} if key else None)
{%- endif %}
        assert status == 202, order
        return dict(order)

    def stock(self) -> dict[str, tuple[int, int]]:
        """(available, reserved) by product id."""
        status, body = self.call("GET", "/products")
        assert status == 200, body
        return {p["id"]: (p["available"], p["reserved"]) for p in body["items"]}

    def wait_terminal(self, order_ids: list[str], timeout: float = 120.0) -> dict[str, dict[str, Any]]:
        """Poll until every order is CONFIRMED/CANCELLED or timeout; returns the last seen orders."""
        seen: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for order_id in order_ids:
                if seen.get(order_id, {}).get("status") not in self.TERMINAL:
                    seen[order_id] = self.call("GET", f"/orders/{order_id}")[1]
            if all(order["status"] in self.TERMINAL for order in seen.values()):
                break
            time.sleep(0.25)
        return seen

    def state_machine_arn(self) -> str:
        """The ARN of the order saga's state machine."""
        return f"arn:aws:states:{self.region}:123456789012:stateMachine:{self.settings.order_saga}"

    def execution_arn(self, order_id: str) -> str:
        """The ARN of the order's saga execution (named by the order id)."""
        return f"arn:aws:states:{self.region}:123456789012:execution:{self.settings.order_saga}:{order_id}"

    def history(self, order_id: str) -> list[dict[str, Any]]:
        """The execution's history events, oldest first."""
        events: list[dict[str, Any]] = self.sfn.get_execution_history(
            executionArn=self.execution_arn(order_id), maxResults=1000
        )["events"]
        return events

    def states_entered(self, order_id: str) -> list[str]:
        """The names of the states the order's execution entered, in order."""
        return [
            e["stateEnteredEventDetails"]["name"] for e in self.history(order_id) if "stateEnteredEventDetails" in e
        ]

    def executions_by_name(self) -> Counter[str]:
        """How many executions of the saga carry each name (an order id), from one listing."""
        pages = self.sfn.get_paginator("list_executions").paginate(stateMachineArn=self.state_machine_arn())
        return Counter(e["name"] for page in pages for e in page["executions"])

    def executions_named(self, order_id: str) -> int:
        """How many executions of the saga carry this order id as their name."""
        return self.executions_by_name()[order_id]

    def payment_status(self, order_id: str) -> str | None:
        """CHARGED / REFUNDED, or None if the order was never charged (read from the table)."""
        item = self.dynamodb.get_item(
            TableName=self.settings.service_table,
            Key={"pk": {"S": f"ORDER#{order_id}"}, "sk": {"S": "PAYMENT"}},
            ConsistentRead=True,
        ).get("Item")
        return item["status"]["S"] if item else None

    def queue_url(self, dlq: bool = False) -> str:
        """The orders queue's (or its DLQ's) URL."""
        name = self.settings.orders_dlq if dlq else self.settings.orders_queue
        return str(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])

    def depth(self, dlq: bool = False) -> int:
        """Visible + in-flight messages of the orders queue (or its DLQ)."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url(dlq),
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])
