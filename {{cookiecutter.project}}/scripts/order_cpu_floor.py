"""The CPU floor of one order: its AWS calls and handler code, in one process, with nothing in between.

moto runs in this process (as the tests' `aws` fixture runs it) and each function is called as
Lambda calls it, in the order an order reaches them: the API, the queue function, the saga's
forward tasks{% if cookiecutter.include_stream == 'y' %}, the stream function{% endif %}. No HTTP, no pollers, no Step Functions interpreter (moto
in-process records the execution; the tasks are called with its input). What devstack spends
beyond this is its own cost. `make bench-orders` prints it next to the burst's figures.

    python -m scripts.order_cpu_floor [--orders 20]   # prints {"cpu_ms_per_order": ...}
"""

import argparse
import json
import statistics
import time
from typing import Any

import boto3
from chalice_devstack.inprocess import InProcessAws, use_mock_environment
from chalice_devstack.project import Project
from chalice_devstack.settings import load_settings
{%- if cookiecutter.include_stream == 'y' %}
from chalice_devstack.triggers.dynamodb import DynamoDBShards
{%- endif %}
from chalice_devstack.triggers.sqs import sqs_record
{%- if cookiecutter.include_auth == 'y' %}

from tests.auth_support import as_user, new_user_id
{%- endif %}

JSON = {"Content-Type": "application/json"}
ORDER = {"items": [{"product_id": "kettle", "quantity": 1}], "payment_token": "tok_approve"}
SAGA_FORWARD_TASKS = ("reserve_inventory", "charge_payment", "confirm_order")
WARM_UP_ORDERS = 3  # the first orders pay for imports and first-call set-up, as a cold Lambda would


class OrderPath:
    """One order, function after function, on moto in this process."""

    def __init__(self, client: Any, region: str) -> None:
        from chalicelib.config import get_settings

        self.client, self.settings = client, get_settings()
        self.sqs: Any = boto3.client("sqs", region_name=region)
        self.sfn: Any = boto3.client("stepfunctions", region_name=region)
        self.queue_url = self.sqs.get_queue_url(QueueName=self.settings.orders_queue)["QueueUrl"]
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.queue_arn, self.region = attributes["Attributes"]["QueueArn"], region
{%- if cookiecutter.include_auth == 'y' %}
        self.headers = {**JSON, **as_user(new_user_id())}
        profile = json.dumps({"name": "Floor", "email": "f@example.com"})
        self.user_id = client.http.put("/users/me", headers=self.headers, body=profile).json_body["id"]
        self.order = json.dumps(ORDER)
{%- else %}
        self.headers = JSON
        user = client.http.post("/users", headers=JSON, body=json.dumps({"name": "Floor", "email": "f@example.com"}))
        self.user_id = user.json_body["id"]
        self.order = json.dumps({"user_id": self.user_id, **ORDER})
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}
        dynamodb: Any = boto3.client("dynamodb", region_name=region)
        stream_arn = dynamodb.describe_table(TableName=self.settings.service_table)["Table"]["LatestStreamArn"]
        streams: Any = boto3.client("dynamodbstreams", region_name=region)
        self.shards = DynamoDBShards(stream_arn, lambda _service: streams, region)
        self.shard_id = self.shards.shard_ids()[0]
        self.iterator: str | None = self.shards.iterator(self.shard_id, "LATEST")
{%- endif %}

    def run(self) -> None:
        """Place one order and call every function it reaches, as its triggers would."""
        placed = self.client.http.post("/orders", headers=self.headers, body=self.order)
        assert placed.status_code == 202, placed.json_body
        messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)["Messages"]
        records = [sqs_record(message, self.queue_arn, self.region) for message in messages]
        self.client.lambda_.invoke("handle_order_messages", {"Records": records})
        self.sqs.delete_message_batch(
            QueueUrl=self.queue_url,
            Entries=[{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)],
        )
        saga_input = self._execution_input(placed.json_body["id"])
        for task in SAGA_FORWARD_TASKS:
            self.client.lambda_.invoke(task, saga_input)
{%- if cookiecutter.include_stream == 'y' %}
        assert self.iterator is not None
        changes, self.iterator = self.shards.read(self.shard_id, self.iterator, 100)
        self.client.lambda_.invoke("record_activity", {"Records": changes})
{%- endif %}

    def _execution_input(self, order_id: str) -> dict[str, Any]:
        """The input the queue function started the saga with, for this order."""
        machines = self.sfn.list_state_machines()["stateMachines"]
        [machine] = [m for m in machines if m["name"] == self.settings.order_saga]
        executions = self.sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]
        for execution in executions:
            described = self.sfn.describe_execution(executionArn=execution["executionArn"])
            saga_input: dict[str, Any] = json.loads(described["input"])
            if saga_input.get("order_id") == order_id:
                return saga_input
        raise LookupError(f"no saga execution for order {order_id}")


def measure(orders: int) -> dict[str, Any]:
    """CPU ms of this process per order (median over `orders`, after a warm-up)."""
    project = Project.discover()
    settings = load_settings(project.root)
    use_mock_environment(project, settings.stage, settings.region)
    from chalice.test import Client

    from app import app
    from scripts.seed import seed_all

    aws = InProcessAws(app, project, settings.stage, settings.region)
    aws.start()
    try:
        seed_all()
        with Client(app) as client:
            path = OrderPath(client, settings.region)
            samples = []
            for number in range(WARM_UP_ORDERS + orders):
                began = time.process_time()
                path.run()
                if number >= WARM_UP_ORDERS:
                    samples.append((time.process_time() - began) * 1000)
    finally:
        aws.stop()
    return {"cpu_ms_per_order": round(statistics.median(samples), 1), "orders": orders}


def main() -> None:
    """CLI: print the floor as one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=20)
    print(json.dumps(measure(parser.parse_args().orders)))


if __name__ == "__main__":
    main()
