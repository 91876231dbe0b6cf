"""Schedules end to end on devstack: fired on demand, they run against the provisioned table."""
{% if cookiecutter.include_orders == 'y' %}
import uuid
{%- endif %}
from datetime import UTC, datetime{% if cookiecutter.include_orders == 'y' %}, timedelta{% endif %}
from typing import Any

from chalice_devstack.testing import Devstack
{%- if cookiecutter.include_orders == 'y' %}
from pynamodb.constants import DATETIME_FORMAT
{%- endif %}

from chalicelib.config import get_settings


def result_of(reply: Any) -> dict[str, Any]:
    """The function's return value inside the trigger reply (whatever wraps it)."""
    assert reply.status == 200, reply.body
    body = reply.body
    for key in ("payload", "result", "response"):
        if isinstance(body, dict) and key in body:
            body = body[key]
    assert isinstance(body, dict), reply.body
    return body


def test_schedule_daily_report_counts_items_per_status(devstack: Devstack) -> None:
    # Given: two items in one status and one in another
    dynamodb = devstack.client("dynamodb")
    for i, status in enumerate(["OPEN", "OPEN", "DONE"]):
        item = {"pk": {"S": f"E2ETHING#{i}"}, "sk": {"S": "THING"}, "entity": {"S": "E2ETHING"}}
        item["status"] = {"S": status}
        dynamodb.put_item(TableName=get_settings().service_table, Item=item)
    # When: the daily report is fired on demand
    report = result_of(devstack.trigger("daily_report"))
    # Then: it is complete and counts them (today's report, whatever else the table holds)
    assert report["complete"] is True
    assert report["day"] == datetime.now(UTC).date().isoformat()
    assert (report["counts"]["E2ETHING.OPEN"], report["counts"]["E2ETHING.DONE"]) == (2, 1)
{%- if cookiecutter.include_orders == 'y' %}


def test_schedule_sweep_cancels_an_order_stuck_pending(devstack: Devstack) -> None:
    # Given: an order written PENDING long ago (its saga never started: no queue message)
    order_id, user_id = str(uuid.uuid4()), str(uuid.uuid4())
    created = (datetime.now(UTC) - timedelta(seconds=get_settings().pending_order_max_age_seconds + 60)).strftime(
        DATETIME_FORMAT
    )
    item = {
        "pk": {"S": f"ORDER#{order_id}"},
        "sk": {"S": "ORDER"},
        "entity": {"S": "ORDER"},
        "id": {"S": order_id},
        "user_id": {"S": user_id},
        "items": {"S": '[{"product_id": "kettle", "quantity": 1}]'},
        "payment_token": {"S": "tok_ok"},
        "total_cents": {"N": "6900"},
        "status": {"S": "PENDING"},
        "created_at": {"S": created},
        "updated_at": {"S": created},
        "gsi1pk": {"S": f"USER#{user_id}#ORDERS"},
        "gsi1sk": {"S": f"{created}#{order_id}"},
    }
    devstack.client("dynamodb").put_item(TableName=get_settings().service_table, Item=item)
    # When: the sweep is fired until it has walked the table
    for _ in range(10):
        runs = result_of(devstack.trigger("sweep_stale_items"))["runs"]
        if all(run["cursor"] is None for run in runs):
            break
    # Then: the order is CANCELLED with the reason, and a second sweep changes nothing more
    order = devstack.api("GET", f"/orders/{order_id}").body
    assert order["status"] == "CANCELLED" and order["reason"].startswith("expired")
    again = result_of(devstack.trigger("sweep_stale_items"))["runs"]
    assert sum(run["acted"] for run in again if run["job"] == "sweep-stale-orders") == 0
{%- endif %}
