"""Placing orders (Idempotency-Key semantics), reading them, and starting one saga per order."""

from typing import Any

import pytest
from types_boto3_stepfunctions.type_defs import ExecutionListItemTypeDef

from chalicelib.config import get_settings
from chalicelib.db.aws import sqs_client, stepfunctions_client
from chalicelib.db.orders import orders_repository
from chalicelib.errors import NotFound, ValidationFailed
from chalicelib.schemas.orders import OrderMessage, OrderStatus, PlaceOrder, SagaInput
from chalicelib.services import orders
from tests.orders_support import given_catalogue, given_order, given_user, order_body

pytestmark = pytest.mark.usefixtures("aws")


def executions() -> list[ExecutionListItemTypeDef]:
    sfn = stepfunctions_client()
    (machine,) = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == get_settings().order_saga]
    return sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]


def queued_bodies() -> list[str]:
    sqs = sqs_client()
    url = sqs.get_queue_url(QueueName=get_settings().orders_queue)["QueueUrl"]
    return [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_place_order_stores_a_pending_order_with_its_total_and_enqueues_it() -> None:
    given_catalogue()
    order = given_order(given_user(), kettle=2, filter_papers=1)
    assert order.status is OrderStatus.PENDING and order.total_cents == 2 * 6900 + 450
    assert orders.get_order(order.id) == order
    assert [OrderMessage.model_validate_json(body).order_id for body in queued_bodies()] == [order.id]


def test_same_idempotency_key_returns_the_first_order_and_creates_nothing() -> None:
    given_catalogue()
    user = given_user()
    first = given_order(user, key="k-1", kettle=1)
    again = given_order(user, key="k-1", kettle=1)
    assert again == first
    assert [o.id for o in orders_repository().list_for_user(user, 10, None).items] == [first.id]
    assert len(queued_bodies()) == 1


def test_same_idempotency_key_with_another_body_is_rejected() -> None:
    given_catalogue()
    user = given_user()
    given_order(user, key="k-2", kettle=1)
    with pytest.raises(ValidationFailed) as raised:
        given_order(user, key="k-2", kettle=2)
    assert raised.value.details[0]["field"] == "Idempotency-Key"


def test_without_a_key_each_request_is_a_new_order() -> None:
    given_catalogue()
    user = given_user()
    assert given_order(user).id != given_order(user).id


@pytest.mark.parametrize(
    ("field", "make"),
    [
        ("user_id", lambda user: order_body("00000000-0000-4000-8000-000000000000")),
        ("items.0.product_id", lambda user: order_body(user, no_such_thing=1)),
    ],
    ids=["unknown-user", "unknown-product"],
)
def test_unknown_user_or_product_is_rejected_naming_the_field(field: str, make: Any) -> None:
    given_catalogue()
    with pytest.raises(ValidationFailed) as raised:
        orders.place_order(PlaceOrder(order=make(given_user())))
    assert [d["field"] for d in raised.value.details] == [field]


def test_start_saga_starts_one_execution_named_by_the_order_id() -> None:
    given_catalogue()
    order = given_order(given_user())
    message = OrderMessage(order_id=order.id, correlation_id="cid-1")
    assert orders.start_order_saga(message) is True
    orders.start_order_saga(message)  # a redelivery: AWS answers a running duplicate with the same execution
    assert [e["name"] for e in executions()] == [order.id]


def test_start_saga_skips_a_finished_order_and_rejects_an_unknown_one() -> None:
    given_catalogue()
    order = given_order(given_user())
    orders.cancel_order(SagaInput(order_id=order.id))
    assert orders.start_order_saga(OrderMessage(order_id=order.id)) is False
    with pytest.raises(NotFound):
        orders.start_order_saga(OrderMessage(order_id="00000000-0000-4000-8000-000000000000"))
    assert executions() == []
