"""The schedule handlers through chalice.test.Client, fired with scheduled events."""

from typing import Any

import boto3

from chalicelib.config import get_settings
from tests.conftest import TEST_REGION


def test_the_daily_report_handler_returns_todays_counts(client: Any) -> None:
    # Given two items in one status
    table = boto3.resource("dynamodb", region_name=TEST_REGION).Table(get_settings().service_table)
    for i in range(2):
        table.put_item(Item={"pk": f"THING#{i}", "sk": "THING", "entity": "THING", "status": "OPEN"})
    # When EventBridge fires the daily report
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    response = client.lambda_.invoke("daily_report", event).payload
    # Then it reports the counts, complete
    assert response["counts"] == {"THING.OPEN": 2}
    assert response["complete"] is True
