"""Products (stock) and per-order reservations in the service table."""

import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.db.aws import transaction_failed_transiently
from chalicelib.db.base import ByTypeIndex, ServiceItem, connection
from chalicelib.errors import OutOfStock, TransientError
from chalicelib.schemas.inventory import {% if cookiecutter.include_auth == 'y' %}Product, ProductChange, StockLine{% else %}Product, StockLine{% endif %}

PRODUCTS_PARTITION = "PRODUCTS"
RESERVED = "RESERVED"
RELEASED = "RELEASED"


class ProductItem(ServiceItem):
    """pk=PRODUCT#<id>, sk=PRODUCT; listed through gsi1 under PRODUCTS, by id."""

    entity = UnicodeAttribute(default="PRODUCT")
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    price_cents = NumberAttribute()
    available = NumberAttribute()
    reserved = NumberAttribute(default=0)
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_type = ByTypeIndex()


class ReservationItem(ServiceItem):
    """pk=ORDER#<id>, sk=RESERVATION: the stock an order holds; its status makes reserve and
    release happen at most once each, in the same transaction as the stock moves."""

    entity = UnicodeAttribute(default="RESERVATION")
    lines = UnicodeAttribute()  # JSON list of StockLine
    status = UnicodeAttribute()
    updated_at = UTCDateTimeAttribute()


def product_key(product_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of a product."""
    return f"PRODUCT#{product_id}", "PRODUCT"


def reservation_key(order_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of an order's reservation."""
    return f"ORDER#{order_id}", "RESERVATION"


def _to_schema(item: ProductItem) -> Product:
    return Product(
        id=item.id,
        name=item.name,
        price_cents=int(item.price_cents),
        available=int(item.available),
        reserved=int(item.reserved),
    )


def _lines(item: ReservationItem) -> list[StockLine]:
    return [StockLine.model_validate(line) for line in json.loads(item.lines)]


def _failed_positions(error: TransactWriteError) -> list[int]:
    reasons: list[Any] = error.cancellation_reasons or []
    return [i for i, reason in enumerate(reasons) if getattr(reason, "code", None) == "ConditionalCheckFailed"]


class InventoryRepository:
    """Stores products and moves stock between `available` and `reserved` atomically."""

    def put_product(self, product: Product) -> bool:
        """Create a product unless it exists (seeding never resets live stock); True if created."""
        pk, sk = product_key(product.id)
        item = ProductItem(
            pk,
            sk,
            id=product.id,
            name=product.name,
            price_cents=product.price_cents,
            available=product.available,
            reserved=product.reserved,
            gsi1pk=PRODUCTS_PARTITION,
            gsi1sk=product.id,
        )
        try:
            item.save(condition=ProductItem.pk.does_not_exist())
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True
{%- if cookiecutter.include_auth == 'y' %}

    def save_product(self, product_id: str, change: ProductChange) -> Product:
        """Create the product or set its name, price and available stock; stock reserved by orders stays."""
        item = ProductItem(*product_key(product_id))
        item.update(
            actions=[
                ProductItem.entity.set("PRODUCT"),
                ProductItem.id.set(product_id),
                ProductItem.name.set(change.name),
                ProductItem.price_cents.set(change.price_cents),
                ProductItem.available.set(change.available),
                ProductItem.reserved.set(ProductItem.reserved | 0),
                ProductItem.gsi1pk.set(PRODUCTS_PARTITION),
                ProductItem.gsi1sk.set(product_id),
            ]
        )
        return _to_schema(item)
{%- endif %}

    def get_many(self, product_ids: list[str]) -> dict[str, Product]:
        """Return the products that exist among product_ids, by id."""
        keys = [product_key(product_id) for product_id in product_ids]
        return {item.id: _to_schema(item) for item in ProductItem.batch_get(keys, consistent_read=True)}

    def catalogue(self) -> list[Product]:
        """Return every product, by id (the catalogue is small; no pagination)."""
        return [
            _to_schema(item) for item in ProductItem.by_type.query(PRODUCTS_PARTITION) if isinstance(item, ProductItem)
        ]

    def holds_stock(self, order_id: str) -> bool:
        """True while the order has a reservation that was not released."""
        item = self._reservation(order_id)
        return item is not None and item.status == RESERVED

    def reserve(self, order_id: str, lines: list[StockLine], now: datetime | None = None) -> bool:
        """Move each line's quantity from available to reserved, all or nothing, once per order.

        Returns False when the order already had a reservation (a retried step); raises OutOfStock
        naming the products that are short.
        """
        if self._reservation(order_id) is not None:
            return False
        pk, sk = reservation_key(order_id)
        record = ReservationItem(
            pk,
            sk,
            lines=json.dumps([line.model_dump() for line in lines]),
            status=RESERVED,
            updated_at=now or datetime.now(UTC),
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(record, condition=ReservationItem.pk.does_not_exist())
                for line in lines:
                    tx.update(
                        ProductItem(*product_key(line.product_id)),
                        actions=[ProductItem.available.add(-line.quantity), ProductItem.reserved.add(line.quantity)],
                        condition=ProductItem.available >= line.quantity,
                    )
        except TransactWriteError as error:
            failed = _failed_positions(error)
            if 0 in failed:  # a concurrent retry of this step reserved first
                return False
            if failed:  # puts come before updates, so position i is lines[i - 1]
                short = [lines[i - 1].product_id for i in failed]
                raise OutOfStock(f"not enough stock for {', '.join(short)}") from error
            if transaction_failed_transiently(error.cancellation_reasons):
                raise TransientError("inventory transaction conflicted; retry") from error
            raise
        return True

    def release(self, order_id: str, now: datetime | None = None) -> bool:
        """Give an order's reserved stock back, once; True if stock moved.

        With no reservation yet, a RELEASED tombstone is written so a late, retried reserve
        of the same order cannot take stock after its saga compensated.
        """
        now = now or datetime.now(UTC)
        for _ in range(2):  # a second pass only if a reserve raced the tombstone
            record = self._reservation(order_id)
            if record is None:
                if self._tombstone(order_id, now):
                    return False
                continue
            if record.status != RESERVED:
                return False
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.update(
                        record,
                        actions=[ReservationItem.status.set(RELEASED), ReservationItem.updated_at.set(now)],
                        condition=ReservationItem.status == RESERVED,
                    )
                    for line in _lines(record):
                        tx.update(
                            ProductItem(*product_key(line.product_id)),
                            actions=[
                                ProductItem.available.add(line.quantity),
                                ProductItem.reserved.add(-line.quantity),
                            ],
                        )
            except TransactWriteError as error:
                if 0 in _failed_positions(error):  # released concurrently
                    return False
                if transaction_failed_transiently(error.cancellation_reasons):
                    raise TransientError("inventory transaction conflicted; retry") from error
                raise
            return True
        return False

    @staticmethod
    def _tombstone(order_id: str, now: datetime) -> bool:
        pk, sk = reservation_key(order_id)
        try:
            ReservationItem(pk, sk, lines="[]", status=RELEASED, updated_at=now).save(
                condition=ReservationItem.pk.does_not_exist()
            )
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    @staticmethod
    def _reservation(order_id: str) -> ReservationItem | None:
        try:
            return ReservationItem.get(*reservation_key(order_id), consistent_read=True)
        except ReservationItem.DoesNotExist:
            return None


@lru_cache(maxsize=1)
def inventory_repository() -> InventoryRepository:
    """Return the process-wide inventory repository."""
    return InventoryRepository()
