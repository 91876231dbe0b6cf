"""Orders under load: placement to terminal state (queue + saga), and a flood of the orders queue."""

import json
import os
import random
import time
from typing import Any

import requests
from chalice_devstack.tooling.locust_support import (
    POLL_TIMEOUT_S,
    RUN_ID,
    Tracker,
    finish_by,
    fire,
    poll,
    register_section,
)
from locust import FastHttpUser, HttpUser, between, constant, events, tag, task
from locust.env import Environment

from loadtests.common import WAIT_MAX_S, new_key, resource_name, {% if cookiecutter.include_auth == 'y' %}sign_in, {% endif %}sqs_client
from loadtests.pipeline import (
    ORDER_TO_TERMINAL,
    QUEUE_DRAIN,
    classify_dlq_bodies,
    orders_section,
    poison_body,
    queue_section,
)

ORDERS = Tracker()

# (weight, payment token, items, outcomes that are right for it). Stock of the seeded
# products runs out under a long run, so an approved card may also end OutOfStock.
SCENARIOS: tuple[tuple[int, str, list[dict[str, Any]], frozenset[str]], ...] = (
    (70, "tok_approve", [{"product_id": "espresso-beans", "quantity": 1}],
     frozenset({"CONFIRMED", "CANCELLED:OutOfStock"})),
    (10, "tok_approve", [{"product_id": "filter-papers", "quantity": 1}, {"product_id": "grinder", "quantity": 1}],
     frozenset({"CONFIRMED", "CANCELLED:OutOfStock"})),
    (10, "tok_decline", [{"product_id": "filter-papers", "quantity": 1}],
     frozenset({"CANCELLED:PaymentDeclined", "CANCELLED:OutOfStock"})),
    (10, "tok_approve", [{"product_id": "kettle", "quantity": 100}], frozenset({"CANCELLED:OutOfStock"})),
)  # fmt: skip
REPLAY_SHARE = 0.1  # share of orders re-sent with the same Idempotency-Key


def outcome(order: dict[str, Any]) -> str:
    """CONFIRMED, or CANCELLED:<error name> from the order's reason ('OutOfStock: ...')."""
    if order["status"] == "CANCELLED":
        return f"CANCELLED:{(order.get('reason') or 'cancelled').split(':')[0]}"
    return str(order["status"])


def terminal(response: Any) -> dict[str, Any] | None:
    """The order if the GET answered with a terminal status, else None."""
    if response.status_code != 200:
        return None
    order: dict[str, Any] = response.json()
    return order if order["status"] != "PENDING" else None


class OrdersUser(FastHttpUser):
    """Places orders (approve / decline / out-of-stock) and follows each to CONFIRMED or CANCELLED."""

    wait_time = between(0, WAIT_MAX_S)

    def on_start(self) -> None:
{%- if cookiecutter.include_auth == 'y' %}
        """Sign in the user the orders belong to."""
        register_section("orders", lambda: orders_section(ORDERS.as_dict()))
        self.user_id: str = sign_in(self.client, "orders")
{%- else %}
        """Register the user the orders belong to."""
        register_section("orders", lambda: orders_section(ORDERS.as_dict()))
        body = {"name": "Load Orders", "email": f"load-orders-{new_key()}@example.com"}
        self.user_id: str = self.client.post("/users", json=body, name="/users").json()["id"]
{%- endif %}

    @tag("orders")
    @task
    def place_and_follow(self) -> None:
        """POST /orders with an Idempotency-Key, then poll GET /orders/{id} until it is terminal."""
        weights = [scenario[0] for scenario in SCENARIOS]
        _, token, items, expected = random.choices(SCENARIOS, weights=weights)[0]
        body = {{ '{' }}{% if cookiecutter.include_auth != 'y' %}"user_id": self.user_id, {% endif %}"items": items, "payment_token": token}
        key = new_key()
        started = time.perf_counter()
        with self.client.post(
            "/orders", json=body, headers={"Idempotency-Key": key}, name="/orders", catch_response=True
        ) as response:
            if response.status_code != 202:
                response.failure(f"place: {response.status_code} {response.text[:200]}")
                return
            order_id: str = response.json()["id"]
        ORDERS.start(order_id, started)
        if random.random() < REPLAY_SHARE:
            self._replay(body, key, order_id)
        order = poll(lambda: terminal(self.client.get(f"/orders/{order_id}", name="/orders/{id} [poll]")))
        if order is None:
            return  # still PENDING: the end-of-run sweep decides whether it is lost
        result = outcome(order)
        ORDERS.finish(order_id, result)
        error = None if result in expected else AssertionError(f"{token} ended {result}")
        fire(*ORDER_TO_TERMINAL, started, error)

    def _replay(self, body: dict[str, Any], key: str, order_id: str) -> None:
        """A client retry: the same key and body must return the same order."""
        with self.client.post(
            "/orders", json=body, headers={"Idempotency-Key": key}, name="/orders [replay]", catch_response=True
        ) as response:
            if response.status_code not in (202, 409) or (
                response.status_code == 202 and response.json()["id"] != order_id
            ):
                response.failure(f"replay answered {response.status_code} {response.text[:200]}")


@events.test_stop.add_listener
def _sweep_pending_orders(environment: Environment, **_: Any) -> None:
    """Give orders still PENDING at the end a last, bounded chance; the rest are lost."""
    if not ORDERS.pending or not environment.host:
        return
    session = requests.Session()
    deadline = min(time.monotonic() + POLL_TIMEOUT_S, finish_by(environment))
    while ORDERS.pending and time.monotonic() < deadline:
        for order_id, started in list(ORDERS.pending.items()):
            response = session.get(f"{environment.host}/orders/{order_id}", timeout=5)
            order = terminal(response)
            if order is not None:
                ORDERS.finish(order_id, outcome(order))
                fire(*ORDER_TO_TERMINAL, started)
        time.sleep(0.5)
    ORDERS.lost = len(ORDERS.pending)


# --- queue flood -------------------------------------------------------------------------

FLOOD_BURST = int(os.environ.get("LOAD_FLOOD_BURST", "100"))
FLOOD_POISON = int(os.environ.get("LOAD_FLOOD_POISON", "3"))
DRAIN_TIMEOUT_S = float(os.environ.get("LOAD_DRAIN_TIMEOUT_S", "60"))
# Poison reaches the DLQ after maxReceiveCount x VisibilityTimeout; waiting for it is capped by this
# and by the end of the run's time (locust_support.finish_by).
DLQ_WAIT_MAX_S = float(os.environ.get("LOAD_DLQ_WAIT_S", "240"))
FLOOD: dict[str, Any] = {"bursts": 0, "sent": 0, "poison_sent": 0}


def queue_counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight) messages of a queue."""
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return int(attributes[names[0]]), int(attributes[names[1]])


class QueueFloodUser(HttpUser):
    """One user: SendMessage bursts straight to the orders queue, timing how fast the consumer drains them.

    Valid messages name orders that already finished (the consumer's idempotent no-op path);
    the first burst also carries poison (unknown order ids, malformed JSON) that must end in
    the DLQ, and nothing else may.
    """

    fixed_count = 1
    wait_time = constant(float(os.environ.get("LOAD_FLOOD_PAUSE_S", "5")))

    def on_start(self) -> None:
        """Find the queues and place a few real orders for the valid messages to name."""
        register_section("queue", lambda: queue_section(FLOOD))
        self.sqs = sqs_client()
        self.queue_url: str = self.sqs.get_queue_url(QueueName=resource_name("ORDERS_QUEUE"))["QueueUrl"]
        dlq_url: str = self.sqs.get_queue_url(QueueName=resource_name("ORDERS_DLQ"))["QueueUrl"]
        FLOOD.update(dlq_url=dlq_url, dlq_start=sum(queue_counts(self.sqs, dlq_url)), first_poison=None)
{%- if cookiecutter.include_auth == 'y' %}
        sign_in(self.client, "flood")
        body = {"items": [{"product_id": "filter-papers", "quantity": 1}], "payment_token": "tok_decline"}
{%- else %}
        user = {"name": "Load Flood", "email": f"load-flood-{new_key()}@example.com"}
        user_id = self.client.post("/users", json=user, name="/users").json()["id"]
        body = {"user_id": user_id, "items": [{"product_id": "filter-papers", "quantity": 1}],
                "payment_token": "tok_decline"}  # fmt: skip
{%- endif %}
        self.order_ids = [self.client.post("/orders", json=body, name="/orders").json()["id"] for _ in range(5)]

    @tag("queue")
    @task
    def flood(self) -> None:
        """Send one burst, then wait (bounded) until the queue holds nothing but unsettled poison."""
        poison = 0 if FLOOD["poison_sent"] else FLOOD_POISON
        bodies = [poison_body(RUN_ID, n) for n in range(poison)]
        bodies += [
            json.dumps({"order_id": self.order_ids[n % len(self.order_ids)], "correlation_id": f"load-{RUN_ID}"})
            for n in range(FLOOD_BURST - poison)
        ]
        random.shuffle(bodies)
        started = time.perf_counter()
        for offset in range(0, len(bodies), 10):
            batch = enumerate(bodies[offset : offset + 10])
            self.sqs.send_message_batch(
                QueueUrl=self.queue_url, Entries=[{"Id": str(n), "MessageBody": body} for n, body in batch]
            )
        if poison:
            FLOOD["first_poison"] = time.monotonic()
        FLOOD.update(
            bursts=FLOOD["bursts"] + 1, sent=FLOOD["sent"] + len(bodies), poison_sent=FLOOD["poison_sent"] + poison
        )

        def drained() -> bool | None:
            visible, in_flight = queue_counts(self.sqs, self.queue_url)
            return True if visible == 0 and in_flight <= FLOOD["poison_sent"] - dlq_arrivals(self.sqs) else None

        done = poll(drained, DRAIN_TIMEOUT_S)
        fire(*QUEUE_DRAIN, started, None if done else TimeoutError(f"not drained in {DRAIN_TIMEOUT_S:.0f} s"))


def poison_due_in(sqs: Any) -> float:
    """Seconds from sending poison to its arrival in the DLQ: maxReceiveCount x VisibilityTimeout, plus slack."""
    queue_url = sqs.get_queue_url(QueueName=resource_name("ORDERS_QUEUE"))["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
    max_receives = json.loads(attributes.get("RedrivePolicy", "{}")).get("maxReceiveCount", 1)
    return int(max_receives) * int(attributes.get("VisibilityTimeout", 30)) + 15


def dlq_arrivals(sqs: Any) -> int:
    """Messages that reached the DLQ since the flood started."""
    return sum(queue_counts(sqs, FLOOD["dlq_url"])) - int(FLOOD["dlq_start"])


def read_dlq(sqs: Any, dlq_url: str) -> list[str]:
    """Every message body in the DLQ (a bounded scan); the messages stay there for a redrive."""
    bodies: dict[str, str] = {}
    handles = []
    for _scan in range(100):
        messages = sqs.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=30)
        new = [m for m in messages.get("Messages", []) if m["MessageId"] not in bodies]
        if not new:
            break
        bodies.update({m["MessageId"]: m["Body"] for m in new})
        handles += [m["ReceiptHandle"] for m in new]
    for offset in range(0, len(handles), 10):
        entries = [
            {"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0}
            for n, h in enumerate(handles[offset : offset + 10])
        ]
        sqs.change_message_visibility_batch(QueueUrl=dlq_url, Entries=entries)
    return list(bodies.values())


@events.test_stop.add_listener
def _check_dlq(environment: Environment, **_: Any) -> None:
    """Wait (bounded) for the poison to reach the DLQ, then classify what the DLQ holds."""
    if not FLOOD["poison_sent"]:
        return
    sqs = sqs_client()
    due_at = FLOOD["first_poison"] + poison_due_in(sqs)
    # Poison that cannot land before the run must end is reported as not due, not as missing.
    FLOOD["poison_due"] = due_at <= min(finish_by(environment), time.monotonic() + DLQ_WAIT_MAX_S)
    if FLOOD["poison_due"]:
        poll(lambda: True if dlq_arrivals(sqs) >= FLOOD["poison_sent"] else None, max(due_at - time.monotonic(), 0))
    bodies = read_dlq(sqs, FLOOD["dlq_url"])
    FLOOD.update(classify_dlq_bodies(bodies, RUN_ID), dlq_depth=len(bodies))
    for key in ("dlq_url", "dlq_start", "first_poison"):
        FLOOD.pop(key, None)
