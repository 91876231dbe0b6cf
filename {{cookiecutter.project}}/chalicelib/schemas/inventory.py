"""Products and their stock."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints
{%- if cookiecutter.include_auth == 'y' %}

from chalicelib.schemas.common import InputModel
{%- endif %}

ProductId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class Product(BaseModel):
    """A product as GET /products returns it; stock is `available` + `reserved`."""

    id: ProductId
    name: str
    price_cents: int = Field(ge=0)
    available: int = Field(ge=0)
    reserved: int = Field(default=0, ge=0)


{%- if cookiecutter.include_auth == 'y' %}


class ProductPath(InputModel):
    """Path of /products/{product_id}."""

    product_id: ProductId


class ProductChange(InputModel):
    """Body of PUT /products/{product_id}: the product as it should be, with the stock available to order."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    # strict: JSON's true/false must not pass as 1/0 (pydantic's lax mode would take them)
    price_cents: int = Field(ge=0, le=10_000_000, strict=True)
    available: int = Field(ge=0, le=1_000_000, strict=True)
{%- endif %}


class StockLine(BaseModel):
    """One product and quantity an order reserves."""

    product_id: ProductId
    quantity: int = Field(ge=1)
