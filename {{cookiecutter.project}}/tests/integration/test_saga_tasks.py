"""The saga's task functions invoked as Lambda functions (client.lambda_.invoke), as Step Functions calls them."""

import json
from typing import Any

import pytest
from chalice_devstack.project import logical_id

from app import app
from chalicelib.errors import OutOfStock, PaymentDeclined, TransientError
from tests.conftest import PROJECT
from tests.orders_support import given_catalogue, given_order, given_user


@pytest.fixture
def user(client: Any) -> str:
    """Given: the seeded catalogue and a registered user; returns the user id."""
    given_catalogue()
    return given_user()


def invoke(client: Any, function: str, order_id: str, **extra: Any) -> dict[str, Any]:
    return client.lambda_.invoke(function, {"order_id": order_id, "correlation_id": "cid", **extra}).payload  # type: ignore[no-any-return]


def test_forward_steps_return_their_outcomes_and_confirm_the_order(client: Any, user: str) -> None:
    order = given_order(user)
    assert invoke(client, "reserve_inventory", order.id)["outcome"] == "reserved"
    assert invoke(client, "charge_payment", order.id)["outcome"] == f"ch_{order.id.replace('-', '')}"
    assert invoke(client, "confirm_order", order.id) == {
        "order_id": order.id,
        "step": "ConfirmOrder",
        "outcome": "confirmed",
    }
    assert client.http.get(f"/orders/{order.id}").json_body["status"] == "CONFIRMED"


@pytest.mark.parametrize(
    ("function", "token", "quantities", "error"),
    [
        ("reserve_inventory", "tok_approve", {"limited_mug": 6}, OutOfStock),
        ("charge_payment", "tok_decline", {"kettle": 1}, PaymentDeclined),
        ("charge_payment", "tok_transient_1", {"kettle": 1}, TransientError),
    ],
    ids=["out-of-stock", "declined", "transient"],
)
def test_failures_raise_the_error_type_the_state_machine_matches(
    client: Any, user: str, function: str, token: str, quantities: dict[str, int], error: type[Exception]
) -> None:
    order = given_order(user, token=token, items=quantities)
    with pytest.raises(error):
        invoke(client, function, order.id)


def test_compensations_cancel_with_the_reason(client: Any, user: str) -> None:
    order = given_order(user)
    invoke(client, "reserve_inventory", order.id)
    caught = {"Error": "PaymentDeclined", "Cause": '{"errorMessage": "card declined"}'}
    outcomes = [
        invoke(client, name, order.id, error=caught)["outcome"]
        for name in ("refund_payment", "release_inventory", "cancel_order")
    ]
    assert outcomes == ["unchanged", "released", "cancelled"]
    cancelled = client.http.get(f"/orders/{order.id}").json_body
    assert cancelled["status"] == "CANCELLED" and cancelled["reason"] == "PaymentDeclined: card declined"


def test_a_compensation_invoked_by_hand_on_a_confirmed_order_is_a_no_op(client: Any, user: str) -> None:
    """Given a CONFIRMED order, when release_inventory and refund_payment are invoked on it, then both skip."""
    order = given_order(user, kettle=2)
    for name in ("reserve_inventory", "charge_payment", "confirm_order"):
        invoke(client, name, order.id)
    stock = client.http.get("/products").json_body
    outcomes = [invoke(client, name, order.id)["outcome"] for name in ("release_inventory", "refund_payment")]
    assert outcomes == ["skipped", "skipped"]
    assert client.http.get("/products").json_body == stock
    assert client.http.get(f"/orders/{order.id}").json_body["status"] == "CONFIRMED"


def test_the_state_machine_names_exactly_the_task_functions(client: Any) -> None:

    asl = json.loads((PROJECT.root / "chalicelib" / "saga" / "order_saga.asl.json").read_text())
    placeholders = {state["Resource"][2:-4] for state in asl["States"].values() if state["Type"] == "Task"}
    substitutions = PROJECT.resources()["Resources"]["OrderSaga"]["Properties"]["DefinitionSubstitutions"]
    functions = {logical_id(function.name) for function in app.pure_lambda_functions}
    assert placeholders == {name.removesuffix("Arn") for name in substitutions} == functions
