"""An order's charge and its provider-attempt counter in the service table."""

from datetime import UTC, datetime
from functools import lru_cache

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, UpdateError

from chalicelib.db.base import ServiceItem
from chalicelib.schemas.orders import Payment, PaymentStatus


class PaymentItem(ServiceItem):
    """pk=ORDER#<id>, sk=PAYMENT: created once when the charge succeeds; REFUNDED at most once."""

    entity = UnicodeAttribute(default="PAYMENT")
    order_id = UnicodeAttribute()
    charge_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    status = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()


class PaymentAttemptsItem(ServiceItem):
    """pk=ORDER#<id>, sk=PAYMENT_ATTEMPTS: how many times the provider was called for the order."""

    entity = UnicodeAttribute(default="PAYMENT_ATTEMPTS")
    attempts = NumberAttribute(default=0)


def payment_key(order_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of an order's payment."""
    return f"ORDER#{order_id}", "PAYMENT"


def _to_schema(item: PaymentItem) -> Payment:
    return Payment(
        order_id=item.order_id,
        charge_id=item.charge_id,
        amount_cents=int(item.amount_cents),
        status=PaymentStatus(item.status),
        created_at=item.created_at,
        updated_at=item.updated_at,
    )


class PaymentsRepository:
    """Records charges and refunds with conditional writes, so each happens once per order."""

    def get(self, order_id: str) -> Payment | None:
        """Return the order's payment, or None when it was never charged."""
        try:
            return _to_schema(PaymentItem.get(*payment_key(order_id), consistent_read=True))
        except PaymentItem.DoesNotExist:
            return None

    def next_attempt(self, order_id: str) -> int:
        """Count one more provider call for the order and return its number (1, 2, ...)."""
        item = PaymentAttemptsItem(f"ORDER#{order_id}", "PAYMENT_ATTEMPTS")
        item.update(actions=[PaymentAttemptsItem.attempts.add(1)])
        return int(item.attempts)

    def record_charge(self, order_id: str, charge_id: str, amount_cents: int, now: datetime | None = None) -> Payment:
        """Store the charge unless one exists; return whichever is stored."""
        now = now or datetime.now(UTC)
        item = PaymentItem(
            *payment_key(order_id),
            order_id=order_id,
            charge_id=charge_id,
            amount_cents=amount_cents,
            status=PaymentStatus.CHARGED.value,
            created_at=now,
            updated_at=now,
        )
        try:
            item.save(condition=PaymentItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            existing = self.get(order_id)
            assert existing is not None  # the condition failed because it exists
            return existing
        return _to_schema(item)

    def mark_refunded(self, order_id: str, now: datetime | None = None) -> bool:
        """Move a CHARGED payment to REFUNDED; False if it was not CHARGED (absent or already refunded)."""
        item = PaymentItem(*payment_key(order_id))
        try:
            item.update(
                actions=[
                    PaymentItem.status.set(PaymentStatus.REFUNDED.value),
                    PaymentItem.updated_at.set(now or datetime.now(UTC)),
                ],
                condition=PaymentItem.status == PaymentStatus.CHARGED.value,
            )
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True


@lru_cache(maxsize=1)
def payments_repository() -> PaymentsRepository:
    """Return the process-wide payments repository."""
    return PaymentsRepository()
