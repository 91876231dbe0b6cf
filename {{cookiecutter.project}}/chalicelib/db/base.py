"""The service table: its PynamoDB base model, index and a shared connection."""

from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.config import get_settings

_settings = get_settings()


class ServiceItem(Model):
    """An item of the single service table, keyed by pk/sk."""

    class Meta:
        table_name = _settings.service_table
        region = _settings.aws_region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


# PynamoDB's Index.__init_subclass__ is untyped; the ignore is for that alone.
class ByTypeIndex(GlobalSecondaryIndex["ServiceItem"]):  # type: ignore[no-untyped-call]
    """gsi1: lists one kind of item (gsi1pk) in creation order (gsi1sk)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


@lru_cache(maxsize=1)
def connection() -> Connection:
    """Return the low-level connection used for transactions (one per process)."""
    return Connection(region=_settings.aws_region)
