"""Concurrent writes against devstack: no 5xx, a serial outcome, no leaked or orphaned email claim;
one correlation id per request in its body, header and log lines."""

import functools
import json
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalice_devstack.testing import Devstack, Reply

from chalicelib.config import get_settings
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import sign_up
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
from tests.orders_support import OrdersOnDevstack
{%- endif %}

CLIENTS = 20
{%- if cookiecutter.include_auth == 'y' %}
# The headers that sign in as each user create_user made: a profile is changed only by its owner.
OWNERS: dict[str, dict[str, str]] = {}
{%- endif %}

Call = Callable[[], Reply]


def race(calls: Sequence[Call]) -> list[Reply]:
    """Run every call at once (released together by a barrier); their replies in call order."""
    start = threading.Barrier(len(calls))

    def run(call: Call) -> Reply:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def new_email() -> str:
    return f"{uuid.uuid4().hex[:12]}@example.com"
{%- if cookiecutter.include_auth == 'y' %}


def create_user(devstack: Devstack, email: str) -> str:
    reply, caller = sign_up(devstack, "Ada", email)
    assert reply.status == 200, reply.body
    OWNERS[reply.body["id"]] = caller
    return str(reply.body["id"])


def patch(devstack: Devstack, user_id: str, change: dict[str, str]) -> Call:
    return lambda: devstack.api("PATCH", f"/users/{user_id}", change, OWNERS[user_id])


def delete(devstack: Devstack, user_id: str) -> Call:
    return lambda: devstack.api("DELETE", f"/users/{user_id}", headers=OWNERS[user_id])
{%- else %}


def create_user(devstack: Devstack, email: str) -> str:
    reply = devstack.api("POST", "/users", {"name": "Ada", "email": email})
    assert reply.status == 201, reply.body
    return str(reply.body["id"])


def patch(devstack: Devstack, user_id: str, change: dict[str, str]) -> Call:
    return lambda: devstack.api("PATCH", f"/users/{user_id}", change)


def delete(devstack: Devstack, user_id: str) -> Call:
    return lambda: devstack.api("DELETE", f"/users/{user_id}")
{%- endif %}


def claim_owner(devstack: Devstack, email: str) -> str | None:
    """The user id holding an email's uniqueness claim, or None when the address is free."""
    item = (
        devstack.client("dynamodb")
        .get_item(
            TableName=get_settings().service_table,
            Key={"pk": {"S": f"EMAIL#{email.lower()}"}, "sk": {"S": "CLAIM"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return item["user_id"]["S"] if item else None


def statuses(replies: list[Reply]) -> set[int]:
    assert [r.body for r in replies if r.status >= 500] == []
    return {r.status for r in replies}


def test_concurrent_email_changes_end_with_one_email_and_its_claim_only(devstack: Devstack) -> None:
    # Given a user, and two addresses half of CLIENTS move it to at once
    first, a, b = new_email(), new_email(), new_email()
    user_id = create_user(devstack, first)
    # When they race
    replies = race([patch(devstack, user_id, {"email": (a, b)[i % 2]}) for i in range(CLIENTS)])
    # Then nothing is a 5xx, and the user ends on one of the two addresses, which alone is claimed, by it
    assert statuses(replies) <= {200, 409}
    final = devstack.api("GET", f"/users/{user_id}").body["email"]
    assert final in (a, b)
    assert {email: claim_owner(devstack, email) for email in (first, a, b)} == {
        first: None,
        a: user_id if final == a else None,
        b: user_id if final == b else None,
    }


def test_a_name_change_racing_an_email_change_keeps_both(devstack: Devstack) -> None:
    # Given a user; half the clients rename it, half move it to a new address
    first, moved = new_email(), new_email()
    user_id = create_user(devstack, first)
    calls = [patch(devstack, user_id, {"name": f"n{i}"} if i % 2 else {"email": moved}) for i in range(CLIENTS)]
    # When they race
    replies = race(calls)
    # Then every PATCH succeeded (each retried a lost race), as if run one after another
    assert statuses(replies) == {200}
    user = devstack.api("GET", f"/users/{user_id}").body
    assert user["email"] == moved and user["name"] in {f"n{i}" for i in range(1, CLIENTS, 2)}
    assert (claim_owner(devstack, first), claim_owner(devstack, moved)) == (None, user_id)


def test_email_changes_racing_deletes_leave_no_user_and_no_claim(devstack: Devstack) -> None:
    # Given a user; half the clients move it to a new address, half delete it
    first, moved = new_email(), new_email()
    user_id = create_user(devstack, first)
    calls = [patch(devstack, user_id, {"email": moved}) if i % 2 else delete(devstack, user_id) for i in range(CLIENTS)]
    # When they race
    replies = race(calls)
    # Then one DELETE won, the rest found nothing (404), no 5xx, and neither address stays claimed
    deletes = [r.status for i, r in enumerate(replies) if i % 2 == 0]
    assert statuses(replies) <= {200, 204, 404, 409}
    assert deletes.count(204) == 1 and set(deletes) <= {204, 404, 409}
    assert devstack.api("GET", f"/users/{user_id}").status == 404
    assert (claim_owner(devstack, first), claim_owner(devstack, moved)) == (None, None)


def test_concurrent_deletes_delete_once(devstack: Devstack) -> None:
    # Given a user, when CLIENTS delete it at once
    email = new_email()
    user_id = create_user(devstack, email)
    replies = race([delete(devstack, user_id) for _ in range(CLIENTS)])
    # Then exactly one is 204, the others 404, and its address is free again
    assert sorted(r.status for r in replies) == [204] + [404] * (CLIENTS - 1)
    assert claim_owner(devstack, email) is None
    assert create_user(devstack, email)


class LogWatch:
    """Gathers the service's JSON log lines that mention any marker from devstack's output, from start to stop.

    The output keeps only its last lines and stream handlers of earlier tests may still be logging,
    so lines are collected all along (a short poll on a thread), not read once at the end.
    """

    def __init__(self, devstack: Devstack, markers: list[str]) -> None:
        self.devstack, self.markers = devstack, markers
        self.seen: dict[str, dict[str, dict[str, Any]]] = {marker: {} for marker in markers}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> "LogWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.01):
            self.collect()

    def collect(self) -> bool:
        """Take in the lines now in the output; True once every marker has its two lines."""
        for line in list(self.devstack.output):
            if not line.startswith("{"):
                continue  # devstack's own lines
            entry = json.loads(line)
            # Matched by what the request was about, never by its correlation id (which is under test).
            about = json.dumps({k: v for k, v in entry.items() if k != "correlation_id"})
            marker = next((m for m in self.markers if m in about), None)
            if marker is not None:
                self.seen[marker].setdefault(line, entry)
        return all(len(lines) >= 2 for lines in self.seen.values())

    def correlation_ids(self) -> dict[str, set[Any]]:
        """Wait until each marker has its lines (rejected, handled); the correlation ids they carry."""
        self.devstack.wait_until(self.collect)
        return {marker: {line.get("correlation_id") for line in lines.values()} for marker, lines in self.seen.items()}


def test_each_concurrent_request_keeps_its_own_correlation_id(devstack: Devstack) -> None:
    # Given CLIENTS requests for missing users, each with its own correlation id
    ids = [str(uuid.uuid4()) for _ in range(CLIENTS)]
    get = functools.partial(devstack.api, "GET")
    calls = [functools.partial(get, f"/users/{i}", headers={"X-Correlation-Id": f"cid-{i}"}) for i in ids]
    # When they run at once in the one devstack process
    with LogWatch(devstack, ids) as logs:
        replies = race(calls)
        logged = logs.correlation_ids()
    # Then each answer carries its own id in the header and the error body
    assert [(r.status, r.headers.get("X-Correlation-Id"), r.body["error"]["correlation_id"]) for r in replies] == [
        (404, f"cid-{i}", f"cid-{i}") for i in ids
    ]
    # And every log line of a request (rejected, handled: each names the user id) carries that request's id
    assert logged == {i: {f"cid-{i}"} for i in ids}
{%- if cookiecutter.include_orders == 'y' %}


def test_concurrent_orders_with_one_idempotency_key_place_one(devstack: Devstack, orders: OrdersOnDevstack) -> None:
    # Given a user and one Idempotency-Key that CLIENTS send the same order with at once
    user_id = create_user(devstack, new_email())
{%- if cookiecutter.include_auth == 'y' %}
    body = {"items": [{"product_id": "kettle", "quantity": 1}], "payment_token": "tok_approve"}
    headers = {**OWNERS[user_id], "Idempotency-Key": f"race-{uuid.uuid4()}"}
    replies = race([lambda: devstack.api("POST", "/orders", body, headers=headers) for _ in range(CLIENTS)])
{%- else %}
    body = {"user_id": user_id, "items": [{"product_id": "kettle", "quantity": 1}], "payment_token": "tok_approve"}
    key = f"race-{uuid.uuid4()}"
    replies = race(
        [lambda: devstack.api("POST", "/orders", body, headers={"Idempotency-Key": key}) for _ in range(CLIENTS)]
    )
{%- endif %}
    # Then the first is accepted, the others get that same order or a 409 "still in progress", never a 5xx
    assert statuses(replies) <= {202, 409}
    placed = {r.body["id"] for r in replies if r.status == 202}
    assert len(placed) == 1
    listed = devstack.api("GET", f"/users/{user_id}/orders").body["items"]
    assert [order["id"] for order in listed] == list(placed)
    # (and its saga has finished, so later tests measure stock without it moving under them)
    orders.wait_terminal(list(placed))
{%- endif %}
