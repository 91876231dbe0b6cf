"""The orders queue handler through chalice.test.Client: exact batchItemFailures, one saga per order."""

import json
from typing import Any

import pytest

from chalicelib.config import get_settings
from chalicelib.db.aws import stepfunctions_client
from tests.events import sqs_event
from tests.orders_support import given_catalogue, given_order, given_user

HANDLER = "handle_order_messages"
MISSING = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def user(client: Any) -> str:
    """Given: the seeded catalogue and a registered user; returns the user id."""
    given_catalogue()
    return given_user()


def execution_names() -> list[str]:
    sfn = stepfunctions_client()
    (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == get_settings().order_saga]
    return sorted(e["name"] for e in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"])


def deliver(client: Any, bodies: list[str]) -> tuple[dict[str, Any], list[str]]:
    event = sqs_event(bodies, get_settings().orders_queue)
    response = client.lambda_.invoke(HANDLER, event).payload
    return response, [record["messageId"] for record in event["Records"]]


def message(order_id: str) -> str:
    return json.dumps({"order_id": order_id, "correlation_id": "cid"})


def test_a_good_batch_starts_one_execution_per_order_and_reports_no_failures(client: Any, user: str) -> None:
    placed = sorted(given_order(user).id for _ in range(10))
    response, _ = deliver(client, [message(order_id) for order_id in placed])
    assert response == {"batchItemFailures": []}
    assert execution_names() == placed


def test_only_the_bad_records_are_reported(client: Any, user: str) -> None:
    good = given_order(user).id
    response, ids = deliver(
        client, [message(good), "{not json", json.dumps({"order": "x"}), message(MISSING), message(good)]
    )
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[i]} for i in (1, 2, 3)]}
    assert execution_names() == [good]


def test_a_batch_of_only_poison_messages_reports_each_instead_of_raising(client: Any, user: str) -> None:
    response, ids = deliver(client, ["", "[]"])
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[0]}, {"itemIdentifier": ids[1]}]}


def test_a_redelivered_message_does_not_start_a_second_execution(client: Any, user: str) -> None:
    order_id = given_order(user).id
    deliver(client, [message(order_id)])
    response, _ = deliver(client, [message(order_id)])
    assert response == {"batchItemFailures": []}
    assert execution_names() == [order_id]
