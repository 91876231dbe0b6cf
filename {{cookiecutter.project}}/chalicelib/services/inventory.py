"""Inventory use cases: the product catalogue, seeding, and stock reservations for orders."""

from chalicelib.db.inventory import inventory_repository
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.errors import Forbidden
{%- endif %}
from chalicelib.observability import logger
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
from chalicelib.schemas.inventory import Product, ProductChange, StockLine
{%- else %}
from chalicelib.schemas.inventory import Product, StockLine
{%- endif %}
from chalicelib.schemas.orders import Order

# What `make seed` and devstack's start put in an empty table. Stock levels are small on
# purpose, so workshop runs and the randomized e2e test hit out-of-stock for real.
SEED_PRODUCTS: tuple[Product, ...] = (
    Product(id="espresso-beans", name="Espresso beans 1 kg", price_cents=2400, available=500),
    Product(id="filter-papers", name="Filter papers (100)", price_cents=450, available=500),
    Product(id="grinder", name="Burr grinder", price_cents=18900, available=40),
    Product(id="kettle", name="Gooseneck kettle", price_cents=6900, available=25),
    Product(id="limited-mug", name="Limited edition mug", price_cents=1900, available=5),
)


def seed_products(products: tuple[Product, ...] = SEED_PRODUCTS) -> int:
    """Create the products that do not exist yet (live stock is never reset); return how many."""
    created = sum(inventory_repository().put_product(product) for product in products)
    logger.info("products seeded", extra={"products_created": created, "products_total": len(products)})
    return created


def list_products() -> list[Product]:
    """Return the catalogue with current stock."""
    return inventory_repository().catalogue()
{%- if cookiecutter.include_auth == 'y' %}


def save_product(caller: Principal, product_id: str, change: ProductChange) -> Product:
    """Create a product or change its name, price and available stock; admins only."""
    if not caller.is_admin:
        raise Forbidden("only admins may manage products")
    product = inventory_repository().save_product(product_id, change)
    logger.info("product saved", extra={"product_id": product_id, "available": product.available})
    return product
{%- endif %}


def products_by_id(product_ids: list[str]) -> dict[str, Product]:
    """Return the existing products among product_ids, by id."""
    return inventory_repository().get_many(product_ids)


def reserve_stock(order: Order) -> bool:
    """Reserve every line of the order, all or nothing; False if it was already reserved.

    Raises OutOfStock (a business failure) when any product is short.
    """
    lines = [StockLine(product_id=line.product_id, quantity=line.quantity) for line in order.items]
    reserved = inventory_repository().reserve(order.id, lines)
    logger.info("stock reserved" if reserved else "stock already reserved", extra={"order_id": order.id})
    return reserved


def release_stock(order_id: str) -> bool:
    """Return the order's reserved stock, once; False when there was nothing (left) to release."""
    released = inventory_repository().release(order_id)
    logger.info("stock released" if released else "nothing to release", extra={"order_id": order_id})
    return released


def reservation_held(order_id: str) -> bool:
    """True while the order holds reserved stock."""
    return inventory_repository().holds_stock(order_id)
