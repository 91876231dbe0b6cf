"""Scheduled jobs' storage: resume state in the service table, and bounded scans over it."""

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.constants import DATETIME_FORMAT
from pynamodb.exceptions import PutError

from chalicelib.config import get_settings
from chalicelib.db.aws import dynamodb_client
from chalicelib.db.base import ServiceItem
from chalicelib.db.pagination import CursorScope, decode_cursor, encode_cursor
from chalicelib.schemas.jobs import Candidate, CandidatePage, JobState

SCAN_KEY_NAMES = frozenset({"pk", "sk"})
_deserializer = TypeDeserializer()


class JobStateItem(ServiceItem):
    """pk=JOB#<name>, sk=STATE: a job's resume point; `version` guards concurrent runs."""

    entity = UnicodeAttribute(default="JOB")
    version = NumberAttribute(default=0)
    cursor = UnicodeAttribute(null=True)
    period = UnicodeAttribute(null=True)
    tallies = JSONAttribute(null=True)
    done = BooleanAttribute(default=False)
    completed_at = UTCDateTimeAttribute(null=True)


def job_key(name: str) -> tuple[str, str]:
    """Return the (pk, sk) of a job's state."""
    return f"JOB#{name}", "STATE"


class JobsRepository:
    """Loads and saves job state (optimistically locked) and scans the table a page at a time."""

    def load(self, name: str) -> JobState:
        """Return a job's saved state, or a fresh one."""
        try:
            item = JobStateItem.get(*job_key(name), consistent_read=True)
        except JobStateItem.DoesNotExist:
            return JobState(name=name)
        return JobState(
            name=name,
            version=int(item.version),
            cursor=item.cursor,
            period=date.fromisoformat(item.period) if item.period else None,
            tallies=item.tallies or {},
            done=bool(item.done),
            completed_at=item.completed_at,
        )

    def save(self, state: JobState) -> bool:
        """Save state as the next version; False if another run saved since `state` was loaded."""
        item = JobStateItem(
            *job_key(state.name),
            version=state.version + 1,
            cursor=state.cursor,
            period=state.period.isoformat() if state.period else None,
            tallies=state.tallies,
            done=state.done,
            completed_at=state.completed_at,
        )
        condition = JobStateItem.pk.does_not_exist() if state.version == 0 else JobStateItem.version == state.version
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def scan_page(
        self, cursor: str | None, limit: int, entity: str | None = None, status: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Read one page (at most `limit` items examined) of the table, optionally filtered by
        entity and status; return the matching items and the cursor of the next page."""
        request: dict[str, Any] = {
            "TableName": get_settings().service_table,
            "Limit": limit,
            "ProjectionExpression": "pk, sk, #id, entity, #status, created_at",
            "ExpressionAttributeNames": {"#id": "id", "#status": "status"},
        }
        filters, values = [], {}
        if entity is not None:
            filters.append("entity = :entity")
            values[":entity"] = {"S": entity}
        if status is not None:
            filters.append("#status = :status")
            values[":status"] = {"S": status}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
            request["ExpressionAttributeValues"] = values
        scope = CursorScope(f"scan {entity} {status}", SCAN_KEY_NAMES)
        start = decode_cursor(cursor, scope)
        if start:
            request["ExclusiveStartKey"] = start
        response = dynamodb_client().scan(**request)
        items = [{k: _deserializer.deserialize(v) for k, v in raw.items()} for raw in response.get("Items", [])]
        return items, encode_cursor(response.get("LastEvaluatedKey"), scope)

    def candidates(self, cursor: str | None, limit: int, entity: str, status: str) -> CandidatePage:
        """One page of items of one entity in one status, with their id and creation time."""
        items, next_cursor = self.scan_page(cursor, limit, entity, status)
        return CandidatePage(
            items=[
                Candidate(id=item["id"], created_at=_parse_time(item["created_at"]))
                for item in items
                if "id" in item and "created_at" in item
            ],
            cursor=next_cursor,
        )


def _parse_time(value: str) -> datetime:
    """PynamoDB's UTCDateTimeAttribute format (what every entity's created_at uses)."""
    return datetime.strptime(value, DATETIME_FORMAT).replace(tzinfo=UTC)


@lru_cache(maxsize=1)
def jobs_repository() -> JobsRepository:
    """Return the process-wide jobs repository."""
    return JobsRepository()
