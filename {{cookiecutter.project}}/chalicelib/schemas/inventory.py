"""Products and their stock."""

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

ProductId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]


class Product(BaseModel):
    """A product as GET /products returns it; stock is `available` + `reserved`."""

    id: ProductId
    name: str
    price_cents: int = Field(ge=0)
    available: int = Field(ge=0)
    reserved: int = Field(default=0, ge=0)


class StockLine(BaseModel):
    """One product and quantity an order reserves."""

    product_id: ProductId
    quantity: int = Field(ge=1)
