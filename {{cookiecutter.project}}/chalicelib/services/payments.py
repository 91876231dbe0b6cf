"""Payments: a fake provider whose outcome is deterministic from the token, and charge/refund.

Tokens: `tok_decline...` is declined; `tok_transient_<N>` fails transiently on the first N
attempts for an order, then approves; any other token approves.
"""

import re

from chalicelib.db.payments import payments_repository
from chalicelib.errors import PaymentDeclined, TransientError
from chalicelib.observability import logger
from chalicelib.schemas.orders import Order, Payment

_TRANSIENT = re.compile(r"^tok_transient_(\d+)$")


class FakePaymentProvider:
    """Stands in for a card processor; charges are keyed by order id like a real idempotency key."""

    def charge(self, token: str, amount_cents: int, order_id: str, attempt: int) -> str:
        """Charge amount_cents; return the charge id, or raise PaymentDeclined / TransientError."""
        if token.startswith("tok_decline"):
            raise PaymentDeclined(f"card declined for order {order_id}")
        transient = _TRANSIENT.match(token)
        if transient and attempt <= int(transient.group(1)):
            raise TransientError(f"payment provider unavailable (attempt {attempt})")
        return f"ch_{order_id.replace('-', '')}"


PROVIDER = FakePaymentProvider()


def charge_order(order: Order) -> Payment:
    """Charge the order's total once: a retried step returns the charge already made."""
    repository = payments_repository()
    existing = repository.get(order.id)
    if existing is not None:
        logger.info("already charged", extra={"order_id": order.id})
        return existing
    attempt = repository.next_attempt(order.id)
    charge_id = PROVIDER.charge(order.payment_token, order.total_cents, order.id, attempt)
    payment = repository.record_charge(order.id, charge_id, order.total_cents)
    logger.info("payment charged", extra={"order_id": order.id, "attempt": attempt})
    return payment


def refund_order(order_id: str) -> bool:
    """Refund the order's charge if it was charged and not yet refunded; True if refunded now."""
    refunded = payments_repository().mark_refunded(order_id)
    logger.info("payment refunded" if refunded else "nothing to refund", extra={"order_id": order_id})
    return refunded


def payment_of(order_id: str) -> Payment | None:
    """Return the order's payment, if it was ever charged."""
    return payments_repository().get(order_id)
