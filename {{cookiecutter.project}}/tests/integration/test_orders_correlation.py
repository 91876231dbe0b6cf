"""One order's correlation id follows it through every function: API, queue, saga{% if cookiecutter.include_stream == 'y' %} and stream{% endif %}.

Each function runs on what the one before it left on AWS (moto), through the Chalice middleware
that tags every log line; the lines are read as Powertools formats them.
"""

import json
import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
{%- if cookiecutter.include_stream == 'y' %}
from boto3.dynamodb.types import TypeDeserializer
{%- endif %}

from chalicelib.config import get_settings
from chalicelib.observability import logger
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import as_user
{%- endif %}
from tests.conftest import TEST_REGION
from tests.events import sqs_event
from tests.orders_support import given_catalogue, given_user, order_body
{%- if cookiecutter.include_stream == 'y' %}
from tests.stream_events import StreamEvents
{%- endif %}

CORRELATION_ID = "checkout-7f3a"


class CapturedLines(logging.Handler):
    """Every log line of the service's logger, as the JSON object Powertools writes."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logger.registered_formatter)
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Keep the formatted line."""
        self.lines.append(json.loads(self.format(record)))

    def of(self, function: str) -> list[dict[str, Any]]:
        """The lines a function wrote."""
        return [line for line in self.lines if line.get("function_name") == function]


@pytest.fixture
def logs(client: Any) -> Iterator[CapturedLines]:
    """Given: the service's log lines captured."""
    handler, service_logger = CapturedLines(), logging.getLogger(logger.name)
    service_logger.addHandler(handler)
    yield handler
    service_logger.removeHandler(handler)


def test_one_orders_correlation_id_is_in_the_logs_of_every_function_it_reaches(
    client: Any, logs: CapturedLines
) -> None:
    # Given: a user and the catalogue
    given_catalogue()
    user_id = given_user()
    settings = get_settings()
    logs.lines.clear()  # only the invocations' lines: set-up code outside them still carries the last one's keys
    # When: the order is placed with a correlation id...
{%- if cookiecutter.include_auth == 'y' %}
    body = order_body(user_id).model_dump_json(exclude={"user_id"})
    headers = {"Content-Type": "application/json", "X-Correlation-Id": CORRELATION_ID, **as_user(user_id)}
{%- else %}
    body = order_body(user_id).model_dump_json()
    headers = {"Content-Type": "application/json", "X-Correlation-Id": CORRELATION_ID}
{%- endif %}
    placed = client.http.post("/orders", headers=headers, body=body)
    assert placed.status_code == 202, placed.json_body
    assert placed.headers["X-Correlation-Id"] == CORRELATION_ID
    # ...the queue function gets the message the API sent...
    sqs = boto3.client("sqs", region_name=TEST_REGION)
    queue_url = sqs.get_queue_url(QueueName=settings.orders_queue)["QueueUrl"]
    [message] = sqs.receive_message(QueueUrl=queue_url)["Messages"]
    client.lambda_.invoke("handle_order_messages", sqs_event([message["Body"]], settings.orders_queue))
    # ...the saga's first task gets the execution input the queue function started...
    sfn = boto3.client("stepfunctions", region_name=TEST_REGION)
    [machine] = [m for m in sfn.list_state_machines()["stateMachines"] if m["name"] == settings.order_saga]
    [execution] = sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
    saga_input = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
    client.lambda_.invoke("reserve_inventory", saga_input)
{%- if cookiecutter.include_stream == 'y' %}
    # ...and the stream function gets the record of the order item as stored
    key = {"pk": {"S": f"ORDER#{placed.json_body['id']}"}, "sk": {"S": "ORDER"}}
    item = boto3.client("dynamodb", region_name=TEST_REGION).get_item(TableName=settings.service_table, Key=key)
    image = {name: TypeDeserializer().deserialize(value) for name, value in item["Item"].items()}
    streams = StreamEvents()
    client.lambda_.invoke("record_activity", streams.event(streams.record("INSERT", new=image)))
{%- endif %}

    # Then: every function logged under the order's correlation id, with its own Lambda keys
    functions = ["api_handler", "handle_order_messages", "reserve_inventory"{% if cookiecutter.include_stream == 'y' %}, "record_activity"{% endif %}]
    for function in functions:
        lines = logs.of(function)
        assert lines, f"{function} logged nothing"
        assert {line.get("correlation_id") for line in lines} == {CORRELATION_ID}, lines
        assert all("cold_start" in line and line["function_request_id"] for line in lines), function
