"""`devstack bench events`: SQS SendMessage -> handler start, DynamoDB write -> stream handler start.

A benchmark that prints numbers, not a test. The AWS endpoint is devstack's, in a child process
(as `devstack up` runs it, telling the pollers here of each message and stream record); the
pollers and a two-handler Chalice app run here, so the handler's start time and the send time
share one clock. Both triggers use a batching window
of 0 s: a configured window (MaximumBatchingWindowInSeconds) adds up to its length on
purpose, on AWS as offline.

    devstack bench events [--samples 30]
"""

import os
import statistics
import subprocess
import sys
import time
from typing import Any

import boto3
from botocore.config import Config
from chalice.app import Chalice

from chalice_devstack.endpoint import READY
from chalice_devstack.pollers import Mappings, Pollers, QueueMapping, StreamMapping
from chalice_devstack.testing import free_port
from chalice_devstack.triggers.wakes import relay_notices

REGION = "us-east-1"


class Invoker:
    """Calls the app's handlers in-process (what devstack's function registry does, minus its bookkeeping)."""

    def __init__(self, app: Chalice) -> None:
        self.app = app

    def invoke(self, name_or_arn: str, event: dict[str, Any], trigger: str, items: Any = None) -> Any:
        """Run the handler; the pollers read only ok/payload."""
        payload = self.app.handler_map[name_or_arn](event, None)
        fields = {"ok": True, "payload": payload, "error_type": None, "error_message": None, "throttled": False}
        return type("Result", (), fields)()


def start_endpoint(port: int) -> "subprocess.Popen[bytes]":
    """devstack's AWS endpoint in a child process, its wake-ups piped to this process's pollers; ready on return."""
    ready_read, ready_write = os.pipe()
    wake_read, wake_write = os.pipe()
    # No Lambda or control route is called here: the control port only has to be a number.
    ports = ["--port", str(port), "--control-port", str(free_port())]
    pipes = ["--ready-fd", str(ready_write), "--wake-fd", str(wake_write)]
    server = subprocess.Popen(  # noqa: S603 - devstack's own endpoint module
        [sys.executable, "-m", "chalice_devstack.endpoint", *ports, *pipes, "--warm", "sqs,dynamodb,dynamodbstreams"],
        stdin=subprocess.PIPE,
        pass_fds=(ready_write, wake_write),
    )
    os.close(ready_write)
    os.close(wake_write)
    relay_notices(wake_read)
    with os.fdopen(ready_read, "rb") as ready:
        if ready.read(len(READY)) != READY:
            raise RuntimeError(f"the AWS endpoint did not start (exit code {server.poll()})")
    return server


def bench(samples: int) -> int:
    """Start the endpoint, start the pollers, time each event from send to handler start; print medians."""
    port = free_port()
    server = start_endpoint(port)
    try:
        os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench"})  # moto accepts any
        config = Config(account_id_endpoint_mode="disabled")

        def clients(service: str) -> Any:
            return boto3.client(service, endpoint_url=f"http://127.0.0.1:{port}", region_name=REGION, config=config)

        return run(clients, samples)
    finally:
        assert server.stdin is not None
        server.stdin.close()  # the endpoint exits on EOF
        server.wait(5)


def run(clients: Any, samples: int) -> int:
    """Measure both latencies against the endpoint the clients reach."""
    sqs, dynamodb = clients("sqs"), clients("dynamodb")
    queue_url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    stream_arn = dynamodb.create_table(
        TableName="bench",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )["TableDescription"]["LatestStreamArn"]

    started: dict[str, float] = {}
    app = Chalice(app_name="bench")

    @app.on_sqs_message(queue="bench", batch_size=10)
    def on_message(event: Any) -> None:
        now = time.perf_counter()
        for record in event:
            started.setdefault(record.body, now)

    @app.on_dynamodb_record(stream_arn=stream_arn, batch_size=100)
    def on_change(event: Any) -> None:
        now = time.perf_counter()
        for record in event:
            started.setdefault(record.keys["pk"]["S"], now)

    mappings = Mappings(
        queues=[QueueMapping("on_message", "arn:bench", queue_arn, 10, 0, False)],
        streams=[StreamMapping("on_change", "arn:bench", stream_arn, 100, 0, "LATEST")],
    )
    pollers = Pollers(mappings, Invoker(app), clients, REGION)
    pollers.start()  # returns once the stream poller holds its LATEST position
    try:
        sqs_ms = measure(samples, "sqs", started, lambda key: sqs.send_message(QueueUrl=queue_url, MessageBody=key))
        ddb_ms = measure(
            samples, "ddb", started, lambda key: dynamodb.put_item(TableName="bench", Item={"pk": {"S": key}})
        )
    finally:
        pollers.stop()
    for label, values in (("SQS SendMessage -> handler start", sqs_ms), ("DynamoDB write -> stream handler", ddb_ms)):
        print(
            f"{label}: median {statistics.median(values):.1f} ms, p90 {statistics.quantiles(values, n=10)[-1]:.1f} ms,"
            f" max {max(values):.1f} ms (n={len(values)})"
        )
    return 0


def measure(samples: int, prefix: str, started: dict[str, float], send: Any) -> list[float]:
    """Send one event at a time (sent before the call returns), wait for its handler; ms per sample."""
    values = []
    for number in range(samples):
        key = f"{prefix}-{number}"
        sent = time.perf_counter()
        send(key)
        deadline = time.monotonic() + 5
        while key not in started:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{key} never reached its handler")
            time.sleep(0.001)
        values.append((started[key] - sent) * 1000)
        time.sleep(0.1)  # the pollers go back to sleep between samples, as between a user's events
    return values
