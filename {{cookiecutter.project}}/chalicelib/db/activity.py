"""The activity table (counters and audit trail) and the domain events topic."""

from datetime import timedelta
from functools import lru_cache

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.config import get_settings
from chalicelib.db.aws import account_id, sns_client
from chalicelib.db.base import connection
from chalicelib.schemas.activity import AuditEntry, Counter, DomainEvent, Reaction

_settings = get_settings()

COUNTERS_SK = "COUNTERS"
AUDIT_PREFIX = "AUDIT#"


class ActivityItem(Model):
    """An item of the activity table: pk=USER#<id>, sk=COUNTERS or AUDIT#<time>#<event id>."""

    class Meta:
        table_name = _settings.activity_table
        region = _settings.aws_region

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class CountersItem(ActivityItem):
    """A user's counters; incremented with ADD, so a missing attribute counts as zero."""

    orders_placed = NumberAttribute(null=True)
    orders_confirmed = NumberAttribute(null=True)
    orders_cancelled = NumberAttribute(null=True)
    uploads_ready = NumberAttribute(null=True)


class AuditItem(ActivityItem):
    """One audit trail entry; expires after the retention period (TTL)."""

    event_id = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()
    subject_id = UnicodeAttribute()
    detail = JSONAttribute(null=True)
    expires_at = TTLAttribute(null=True)


def user_partition(user_id: str) -> str:
    """Return the activity partition of one user."""
    return f"USER#{user_id}"


def audit_sort_key(entry: AuditEntry) -> str:
    """Audit entries sort by time; the event id makes each stream record's entry unique."""
    return f"{AUDIT_PREFIX}{entry.at.isoformat()}#{entry.event_id}"


def _to_audit(item: AuditItem) -> AuditEntry:
    return AuditEntry(
        user_id=item.pk.removeprefix("USER#"),
        event_id=item.event_id,
        at=item.at,
        action=item.action,
        subject_id=item.subject_id,
        detail=dict(item.detail or {}),
    )


class ActivityRepository:
    """Applies reactions exactly once per stream record, and reads them back."""

    def apply(self, reaction: Reaction) -> bool:
        """Write the audit entry and the counter increments in one transaction; False if
        this stream record was applied before (its audit entry exists)."""
        entry = reaction.audit
        audit = AuditItem(
            user_partition(entry.user_id),
            audit_sort_key(entry),
            event_id=entry.event_id,
            at=entry.at,
            action=entry.action,
            subject_id=entry.subject_id,
            detail=entry.detail,
            expires_at=entry.at + timedelta(days=_settings.audit_retention_days),
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.save(audit, condition=AuditItem.pk.does_not_exist())
                if reaction.counters:
                    counters = CountersItem(user_partition(entry.user_id), COUNTERS_SK)
                    actions = [getattr(CountersItem, name.value).add(n) for name, n in reaction.counters.items()]
                    tx.update(counters, actions=actions)
        except TransactWriteError as error:
            reasons = error.cancellation_reasons or []
            # Puts come first in the transaction: position 0 is the audit entry.
            if reasons and getattr(reasons[0], "code", None) == "ConditionalCheckFailed":
                return False
            raise
        return True

    def counters(self, user_id: str) -> dict[Counter, int]:
        """Return a user's counters, zero for those never incremented."""
        try:
            item = CountersItem.get(user_partition(user_id), COUNTERS_SK)
        except CountersItem.DoesNotExist:
            return dict.fromkeys(Counter, 0)
        return {counter: int(getattr(item, counter.value) or 0) for counter in Counter}

    def audit(self, user_id: str, limit: int) -> list[AuditEntry]:
        """Return a user's latest audit entries, newest first."""
        query = AuditItem.query(
            user_partition(user_id), AuditItem.sk.startswith(AUDIT_PREFIX), scan_index_forward=False, limit=limit
        )
        return [_to_audit(item) for item in query]


class DomainEventsTopic:
    """The SNS topic domain events fan out through (each subscriber queue gets a copy)."""

    def publish(self, event: DomainEvent) -> None:
        """Publish one event; its type is a message attribute, so subscribers can filter on it."""
        arn = f"arn:aws:sns:{_settings.aws_region}:{account_id()}:{_settings.domain_events_topic}"
        sns_client().publish(
            TopicArn=arn,
            Message=event.model_dump_json(),
            MessageAttributes={"event_type": {"DataType": "String", "StringValue": event.type}},
        )


@lru_cache(maxsize=1)
def activity_repository() -> ActivityRepository:
    """Return the process-wide activity repository."""
    return ActivityRepository()


@lru_cache(maxsize=1)
def domain_events() -> DomainEventsTopic:
    """Return the process-wide domain events publisher."""
    return DomainEventsTopic()
