"""Order use cases: placing (idempotently), reading, starting the saga, and the saga's steps."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from chalicelib.config import get_settings
from chalicelib.db.orders import idempotency_store, order_saga_runner, orders_queue, orders_repository
from chalicelib.db.users import users_repository
from chalicelib.errors import Conflict, NotFound, ValidationFailed, field_error
from chalicelib.observability import correlation_id, count, count_by, logger
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.orders import (
    IDEMPOTENCY_HEADER,
    Order,
    OrderMessage,
    OrderStatus,
    PlaceOrder,
    SagaInput,
    StepResult,
)
from chalicelib.services import inventory, payments

# Business metrics (EMF, the service's namespace): counted where the state changes, once per
# order, so a retried step or a replayed Idempotency-Key counts nothing twice.
ORDERS_PLACED = "OrdersPlaced"
ORDERS_CONFIRMED = "OrdersConfirmed"
ORDERS_CANCELLED = "OrdersCancelled"
# The cancel reason is a dimension of one metric, not part of its name: the total is one
# metric, a new reason needs no code or dashboard change (the widget SEARCHes the dimension),
# and its value is the Step Functions error name (OutOfStock, PaymentDeclined, States.Timeout),
# a small set, never the free-text message (each distinct value is a billed metric).
CANCEL_REASON = "reason"


def _not_found(order_id: str) -> NotFound:
    return NotFound(f"order {order_id} not found")


def place_order(request: PlaceOrder, lambda_context: Any = None) -> Order:
    """Create a PENDING order and enqueue it; a repeated Idempotency-Key returns the first order.

    The same key with a different body is a 422; the same key while the first request is
    still running is a 409. lambda_context (optional) bounds how long a crashed request's
    key stays "in progress".
    """
    if request.idempotency_key is None:
        return _place_order(request)
    if lambda_context is not None:
        _idempotency_config().register_lambda_context(lambda_context)
    try:
        return _idempotent_place_order()(request=request)
    except IdempotencyValidationError:
        raise ValidationFailed(
            f"{IDEMPOTENCY_HEADER} was already used with a different request body",
            [field_error(IDEMPOTENCY_HEADER, "reuse a key only to retry the identical request")],
        ) from None
    except IdempotencyAlreadyInProgressError:
        raise Conflict(
            f"a request with this {IDEMPOTENCY_HEADER} is still in progress",
            [field_error(IDEMPOTENCY_HEADER, "retry once the first request has finished")],
        ) from None


@lru_cache(maxsize=1)
def _idempotency_config() -> IdempotencyConfig:
    """Key: the buyer and the Idempotency-Key header (no key answers another buyer); payload: the order (else a 422)."""
    return IdempotencyConfig(
        event_key_jmespath="[order.user_id, idempotency_key]",
        payload_validation_jmespath="order",
        raise_on_no_idempotency_key=True,
        expires_after_seconds=get_settings().idempotency_ttl_seconds,
    )


@lru_cache(maxsize=1)
def _idempotent_place_order() -> Callable[..., Order]:
    """Wrap _place_order with Powertools idempotency (built lazily: the store needs a boto3 client)."""
    wrapped: Callable[..., Order] = idempotent_function(
        _place_order,
        data_keyword_argument="request",
        persistence_store=idempotency_store(),
        config=_idempotency_config(),
        output_serializer=PydanticSerializer(model=Order),
    )
    return wrapped


def _place_order(request: PlaceOrder) -> Order:
    data = request.order
    if users_repository().get(data.user_id) is None:
        raise ValidationFailed("user does not exist", [field_error("user_id", f"no user {data.user_id}")])
    products = inventory.products_by_id([line.product_id for line in data.items])
    unknown = [
        field_error(f"items.{i}.product_id", f"no product {line.product_id}")
        for i, line in enumerate(data.items)
        if line.product_id not in products
    ]
    if unknown:
        raise ValidationFailed("order names unknown products", unknown)
    now = datetime.now(UTC)
    order = Order(
        id=str(uuid.uuid4()),
        user_id=data.user_id,
        items=data.items,
        payment_token=data.payment_token,
        total_cents=sum(products[line.product_id].price_cents * line.quantity for line in data.items),
        status=OrderStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    orders_repository().create(order, correlation_id())
    orders_queue().send(OrderMessage(order_id=order.id, correlation_id=correlation_id()))
    count(ORDERS_PLACED)
    logger.info("order placed", extra={"order_id": order.id, "user_id": order.user_id})
    return order


def get_order(order_id: str) -> Order:
    """Return one order or raise NotFound."""
    order = orders_repository().get(order_id)
    if order is None:
        raise _not_found(order_id)
    return order
{%- if cookiecutter.include_auth == 'y' %}


def read_order(caller: Principal, order_id: str) -> Order:
    """Return an order the caller may read (their own; anyone's for an admin), else NotFound as if it did not exist."""
    order = get_order(order_id)
    if not caller.may_read(order.user_id):
        raise _not_found(order_id)
    return order


def list_user_orders(caller: Principal, user_id: str, query: PageQuery) -> Page[Order]:
    """One page of a user's orders, oldest first; NotFound unless the user exists and the caller may read them."""
    if not caller.may_read(user_id) or users_repository().get(user_id) is None:
{%- else %}


def list_user_orders(user_id: str, query: PageQuery) -> Page[Order]:
    """Return one page of a user's orders, oldest first; NotFound if the user does not exist."""
    if users_repository().get(user_id) is None:
{%- endif %}
        raise NotFound(f"user {user_id} not found")
    return orders_repository().list_for_user(user_id, query.limit, query.cursor)


def start_order_saga(message: OrderMessage) -> bool:
    """Start the order's saga unless it already ran; True if an execution was started now.

    The execution is named by the order id, so a redelivered message cannot start a second one.
    """
    order = get_order(message.order_id)
    if order.status is not OrderStatus.PENDING:
        logger.info("order already finished", extra={"order_id": order.id, "status": order.status.value})
        return False
    saga_input = SagaInput(order_id=order.id, correlation_id=message.correlation_id)
    started = order_saga_runner().start(order.id, saga_input.model_dump(exclude_none=True))
    logger.info("saga started" if started else "saga already started", extra={"order_id": order.id})
    return started


# The saga's steps. Each is idempotent: a retry (Step Functions Retry, or a redelivered
# execution) finds its own earlier write and does nothing twice.


def reserve_inventory(step: SagaInput) -> StepResult:
    """Saga step 1: reserve the order's stock (OutOfStock is a business failure)."""
    reserved = inventory.reserve_stock(get_order(step.order_id))
    return StepResult(order_id=step.order_id, step="ReserveInventory", outcome="reserved" if reserved else "unchanged")


def charge_payment(step: SagaInput) -> StepResult:
    """Saga step 2: charge the order's total (PaymentDeclined is business, TransientError is retried)."""
    payment = payments.charge_order(get_order(step.order_id))
    return StepResult(order_id=step.order_id, step="ChargePayment", outcome=payment.charge_id)


def confirm_order(step: SagaInput) -> StepResult:
    """Saga step 3: PENDING -> CONFIRMED; a cancelled order cannot be confirmed."""
    confirmed = orders_repository().finish(step.order_id, OrderStatus.CONFIRMED, None)
    if not confirmed and get_order(step.order_id).status is not OrderStatus.CONFIRMED:
        raise Conflict(f"order {step.order_id} is not pending")
    if confirmed:
        count(ORDERS_CONFIRMED)
    return StepResult(order_id=step.order_id, step="ConfirmOrder", outcome="confirmed" if confirmed else "unchanged")


def refund_payment(step: SagaInput) -> StepResult:
    """Compensation: refund the charge if there is one not yet refunded."""
    if skipped := _skip_if_confirmed(step.order_id, "RefundPayment"):
        return skipped
    refunded = payments.refund_order(step.order_id)
    return StepResult(order_id=step.order_id, step="RefundPayment", outcome="refunded" if refunded else "unchanged")


def release_inventory(step: SagaInput) -> StepResult:
    """Compensation: give reserved stock back if any is held."""
    if skipped := _skip_if_confirmed(step.order_id, "ReleaseInventory"):
        return skipped
    released = inventory.release_stock(step.order_id)
    return StepResult(order_id=step.order_id, step="ReleaseInventory", outcome="released" if released else "unchanged")


def cancel_order(step: SagaInput) -> StepResult:
    """Compensation: PENDING -> CANCELLED with the reason taken from the caught error."""
    if skipped := _skip_if_confirmed(step.order_id, "CancelOrder"):
        return skipped
    cancelled = orders_repository().finish(step.order_id, OrderStatus.CANCELLED, step.reason())
    if cancelled:
        count_by(ORDERS_CANCELLED, CANCEL_REASON, cancel_reason_name(step))
    logger.info("order cancelled" if cancelled else "order already finished", extra={"order_id": step.order_id})
    return StepResult(order_id=step.order_id, step="CancelOrder", outcome="cancelled" if cancelled else "unchanged")


def _skip_if_confirmed(order_id: str, step: str) -> StepResult | None:
    """A "skipped" result, and a log line saying why, when the order is CONFIRMED: its stock and charge stay.

    The saga compensates an order that is PENDING (a step failed) or CANCELLED (the stale-order sweep
    cancelled it while the saga ran). A CONFIRMED order never changes status again, so a compensation
    invoked by hand, or one the saga runs after ConfirmOrder wrote but then failed, leaves it whole.
    """
    status = get_order(order_id).status
    if status is not OrderStatus.CONFIRMED:
        return None
    logger.info(
        "compensation skipped: the order is CONFIRMED, not being compensated",
        extra={"order_id": order_id, "step": step, "status": status.value},
    )
    return StepResult(order_id=order_id, step=step, outcome="skipped")


def cancel_reason_name(step: SagaInput) -> str:
    """The caught error's name (OutOfStock, PaymentDeclined, States.Timeout), or Cancelled without one."""
    name = (step.error or {}).get("Error")
    return str(name) if name else "Cancelled"
