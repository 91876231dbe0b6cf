"""Order API bodies, the order resource, the queue message and the saga's payloads."""

import json
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator

from chalicelib.schemas.common import HeaderModel, InputModel, ResourceId
from chalicelib.schemas.inventory import ProductId

# The fake payment provider reads its outcome from the token (services/payments.py).
PaymentToken = Annotated[str, StringConstraints(pattern=r"^tok_[a-z0-9_]{1,40}$")]
IDEMPOTENCY_HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,255}$")]  # 1-255 visible ASCII characters


class OrderStatus(StrEnum):
    """PENDING until the saga ends it CONFIRMED or CANCELLED (with a reason)."""

    PENDING = "PENDING"
    CONFIRMED = "CONFIRMED"
    CANCELLED = "CANCELLED"


class OrderLine(InputModel):
    """One product and how many of it."""

    product_id: ProductId
    quantity: int = Field(ge=1, le=100)


{%- if cookiecutter.include_auth == 'y' %}


class OrderRequest(InputModel):
    """Body of POST /orders: what to buy and how to pay (the buyer is the signed-in caller)."""
{% else %}


class OrderCreate(InputModel):
    """Body of POST /orders."""

    user_id: ResourceId
{%- endif %}
    items: list[OrderLine] = Field(min_length=1, max_length=20)
    payment_token: PaymentToken

    @field_validator("items")
    @classmethod
    def _distinct_products(cls, items: list[OrderLine]) -> list[OrderLine]:
        if len({line.product_id for line in items}) != len(items):
            raise ValueError("each product may appear once; add up the quantities")
        return items
{%- if cookiecutter.include_auth == 'y' %}


class OrderCreate(OrderRequest):
    """An order to place: the body and its buyer."""

    user_id: ResourceId
{%- endif %}


class PlaceOrderHeaders(HeaderModel):
    """Headers of POST /orders: retry with the same Idempotency-Key and get the first order back."""

    idempotency_key: IdempotencyKey | None = Field(default=None, alias=IDEMPOTENCY_HEADER)


class PlaceOrder(BaseModel):
    """POST /orders as the service sees it: the body and the caller's Idempotency-Key."""

    idempotency_key: IdempotencyKey | None = None
    order: OrderCreate


class Order(BaseModel):
    """An order as the API returns it."""

    id: str
    user_id: str
    items: list[OrderLine]
    payment_token: str
    total_cents: int
    status: OrderStatus
    reason: str | None = None
    created_at: datetime
    updated_at: datetime


class OrderMessage(BaseModel):
    """The orders queue's message body: which order to process."""

    model_config = {"extra": "ignore"}

    order_id: ResourceId
    correlation_id: str | None = None


class SagaInput(BaseModel):
    """What every saga task receives (the execution input, passed through unchanged)."""

    model_config = {"extra": "ignore"}

    order_id: ResourceId
    correlation_id: str | None = None
    error: dict[str, Any] | None = None

    def reason(self) -> str:
        """The cancellation reason: the caught error's name and message, if any."""
        if not self.error:
            return "cancelled"
        name = str(self.error.get("Error", "Error"))
        cause = str(self.error.get("Cause", ""))
        return f"{name}: {_error_message(cause)}" if cause else name


class StepResult(BaseModel):
    """What a saga task returns: the order and what the step did (for the execution history)."""

    order_id: str
    step: str
    outcome: str


class PaymentStatus(StrEnum):
    """A charge's life: CHARGED, then REFUNDED if the order is cancelled afterwards."""

    CHARGED = "CHARGED"
    REFUNDED = "REFUNDED"


class Payment(BaseModel):
    """The one charge of an order."""

    order_id: str
    charge_id: str
    amount_cents: int
    status: PaymentStatus
    created_at: datetime
    updated_at: datetime


def _error_message(cause: str) -> str:
    """A Lambda error's Cause is JSON with errorMessage; keep just that when it is."""
    try:
        decoded = json.loads(cause)
    except ValueError:
        return cause
    return str(decoded.get("errorMessage", cause)) if isinstance(decoded, dict) else cause
