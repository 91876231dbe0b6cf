"""Orders in the service table, the orders queue, the saga starter and the idempotency store."""

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import UpdateError

from chalicelib.config import get_settings
from chalicelib.db.aws import account_id, dynamodb_client, queue_url, sqs_client, stepfunctions_client
from chalicelib.db.base import ByTypeIndex, ServiceItem
from chalicelib.db.pagination import CursorScope, decode_cursor, encode_cursor
from chalicelib.schemas.common import Page
from chalicelib.schemas.orders import Order, OrderLine, OrderMessage, OrderStatus

LIST_KEY_NAMES = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})


class OrderItem(ServiceItem):
    """pk=ORDER#<id>, sk=ORDER; a user's orders are listed through gsi1 under USER#<id>#ORDERS."""

    entity = UnicodeAttribute(default="ORDER")
    id = UnicodeAttribute()
    user_id = UnicodeAttribute()
    items = JSONAttribute()
    payment_token = UnicodeAttribute()
    total_cents = NumberAttribute()
    status = UnicodeAttribute()
    reason = UnicodeAttribute(null=True)
    # The placing request's correlation id: the table's stream carries it to the stream function's logs.
    correlation_id = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_type = ByTypeIndex()


def order_key(order_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of an order."""
    return f"ORDER#{order_id}", "ORDER"


def user_orders_partition(user_id: str) -> str:
    """Return the gsi1 partition that lists one user's orders."""
    return f"USER#{user_id}#ORDERS"


def user_orders_scope(user_id: str) -> CursorScope:
    """The cursor scope of one user's order listing: another user's cursor does not fit it."""
    partition = user_orders_partition(user_id)
    return CursorScope(
        f"GET /users/{user_id}/orders", LIST_KEY_NAMES, {"gsi1pk": partition, "sk": "ORDER"}, {"pk": "ORDER#"}
    )


def _to_schema(item: OrderItem) -> Order:
    return Order(
        id=item.id,
        user_id=item.user_id,
        items=[OrderLine.model_validate(line) for line in item.items],
        payment_token=item.payment_token,
        total_cents=int(item.total_cents),
        status=OrderStatus(item.status),
        reason=item.reason,
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


class OrdersRepository:
    """Stores orders; status leaves PENDING exactly once, by a conditional update."""

    def create(self, order: Order, correlation_id: str | None = None) -> Order:
        """Insert a new order (its id must be new), tagged with the request's correlation id."""
        OrderItem(
            *order_key(order.id),
            id=order.id,
            user_id=order.user_id,
            items=[line.model_dump() for line in order.items],
            payment_token=order.payment_token,
            total_cents=order.total_cents,
            status=order.status.value,
            reason=order.reason,
            correlation_id=correlation_id,
            created_at=order.created_at,
            updated_at=order.updated_at,
            gsi1pk=user_orders_partition(order.user_id),
            gsi1sk=f"{order.created_at.isoformat()}#{order.id}",
        ).save(condition=OrderItem.pk.does_not_exist())
        return order

    def get(self, order_id: str) -> Order | None:
        """Return the order, or None when there is none."""
        try:
            return _to_schema(OrderItem.get(*order_key(order_id), consistent_read=True))
        except OrderItem.DoesNotExist:
            return None

    def list_for_user(self, user_id: str, limit: int, cursor: str | None) -> Page[Order]:
        """Return one page of a user's orders, oldest first."""
        scope = user_orders_scope(user_id)
        result = OrderItem.by_type.query(
            user_orders_partition(user_id), limit=limit, last_evaluated_key=decode_cursor(cursor, scope)
        )
        items = [_to_schema(item) for item in result if isinstance(item, OrderItem)]
        return Page[Order](items=items, next=encode_cursor(result.last_evaluated_key, scope))

    def finish(self, order_id: str, status: OrderStatus, reason: str | None, now: datetime | None = None) -> bool:
        """Move a PENDING order to status (with reason); False if it was not PENDING."""
        item = OrderItem(*order_key(order_id))
        actions: list[Any] = [OrderItem.status.set(status.value), OrderItem.updated_at.set(now or datetime.now(UTC))]
        if reason is not None:
            actions.append(OrderItem.reason.set(reason))
        try:
            item.update(actions=actions, condition=OrderItem.status == OrderStatus.PENDING.value)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


class OrdersQueue:
    """The SQS queue that hands new orders to the saga starter."""

    def send(self, message: OrderMessage) -> None:
        """Enqueue one order message."""
        sqs_client().send_message(
            QueueUrl=queue_url(get_settings().orders_queue), MessageBody=message.model_dump_json(exclude_none=True)
        )


class OrderSagaRunner:
    """Starts the order saga state machine: one execution per order, named by the order id."""

    def start(self, order_id: str, execution_input: dict[str, Any]) -> bool:
        """Start the order's execution; False if one with that name already exists (a redelivery)."""
        settings = get_settings()
        arn = f"arn:aws:states:{settings.aws_region}:{account_id()}:stateMachine:{settings.order_saga}"
        sfn = stepfunctions_client()
        try:
            sfn.start_execution(
                stateMachineArn=arn,
                name=order_id,
                input=json.dumps(execution_input, separators=(",", ":"), sort_keys=True),
            )
        except sfn.exceptions.ExecutionAlreadyExists:
            return False
        return True


@lru_cache(maxsize=1)
def orders_repository() -> OrdersRepository:
    """Return the process-wide orders repository."""
    return OrdersRepository()


@lru_cache(maxsize=1)
def orders_queue() -> OrdersQueue:
    """Return the process-wide orders queue sender."""
    return OrdersQueue()


@lru_cache(maxsize=1)
def order_saga_runner() -> OrderSagaRunner:
    """Return the process-wide saga starter."""
    return OrderSagaRunner()


@lru_cache(maxsize=1)
def idempotency_store() -> DynamoDBPersistenceLayer:
    """Return the Powertools idempotency persistence layer on the idempotency table."""
    return DynamoDBPersistenceLayer(table_name=get_settings().idempotency_table, boto3_client=dynamodb_client())
