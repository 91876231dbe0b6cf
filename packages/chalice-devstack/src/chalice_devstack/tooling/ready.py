"""`devstack bench ready`: devstack's figures against a bare moto server measured in the same run.

    devstack bench ready [--runs 3] [--calls 300]

- time to ready: `devstack up` until it prints `devstack ready`, vs the floor: a bare
  moto server started the same way (a child process serving moto's WSGI app) until it answers
  its first call; medians of --runs, and their ratio;
- dispatcher overhead: DynamoDB GetItem median latency through the devstack endpoint vs the
  bare moto server (same boto3 client settings), and their ratio.
Event latency (SQS / stream -> handler start) is `devstack bench events`.
"""

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from chalice_devstack.testing import free_port

REGION = "us-east-1"
START_TIMEOUT_SECONDS = 60.0  # either server, on a slow machine without bytecode, is ready well within this
# moto as it ships (none of devstack's fixes or start-up shortcuts), on devstack's server.
BARE_MOTO = """
import sys
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from chalice_devstack.serving import bind
bind(DomainDispatcherApplication(create_backend_app), int(sys.argv[1])).serve_forever()
"""


def client(service: str, port: int) -> Any:
    """A boto3 client for a local endpoint."""
    return boto3.client(
        service,
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name=REGION,
        aws_access_key_id="bench",
        aws_secret_access_key="bench",  # noqa: S106 - moto accepts any credentials
        config=Config(retries={"max_attempts": 0}, connect_timeout=1),
    )


def bare_moto(root: Path) -> tuple[float, "subprocess.Popen[bytes]", int]:
    """Start a bare moto server; return (seconds until its first answered call, process, port)."""
    port = free_port()
    dynamodb = client("dynamodb", port)
    began = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", BARE_MOTO, str(port)], cwd=root)  # noqa: S603
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while process.poll() is None and time.monotonic() < deadline:
        try:
            dynamodb.list_tables()
            return time.perf_counter() - began, process, port
        except Exception:  # not listening yet
            time.sleep(0.01)
    stop(process)
    raise RuntimeError(f"the bare moto server did not answer within {START_TIMEOUT_SECONDS:.0f} s")


def devstack(root: Path) -> tuple[float, "subprocess.Popen[str]", int]:
    """Start `devstack up` in root; return (seconds until its ready line, process, AWS port)."""
    port = free_port()
    env = {**os.environ, "DEVSTACK_AWS_PORT": str(port), "DEVSTACK_API_PORT": str(free_port())}
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "chalice_devstack", "up"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if "devstack ready in" in line:
            return time.perf_counter() - began, process, port
    raise RuntimeError(f"devstack exited with {process.wait()} before it was ready")


def stop(process: "subprocess.Popen[Any]") -> None:
    """Stop a child started here."""
    process.terminate()
    process.wait(10)


def get_item_median_ms(port: int, calls: int) -> float:
    """Median GetItem latency on a small table created for the purpose."""
    dynamodb = client("dynamodb", port)
    table = f"bench-{port}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "k"}, "v": {"S": "x" * 100}})
    for _ in range(20):  # warm the connection and moto's code paths
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "k"}})
    samples = []
    for _ in range(calls):
        began = time.perf_counter()
        dynamodb.get_item(TableName=table, Key={"pk": {"S": "k"}})
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def bench(root: Path, runs: int, calls: int) -> str:
    """Measure both setups `runs` times; the figures as three lines."""
    floors, readies, bare_ms, dev_ms = [], [], [], []
    for _ in range(runs):
        seconds, process, port = bare_moto(root)
        floors.append(seconds)
        bare_ms.append(get_item_median_ms(port, calls))
        stop(process)
        seconds, stack, port = devstack(root)
        readies.append(seconds)
        dev_ms.append(get_item_median_ms(port, calls))
        stop(stack)
    floor, ready = statistics.median(floors), statistics.median(readies)
    bare, dev = statistics.median(bare_ms), statistics.median(dev_ms)
    return "\n".join(
        [
            f"time to ready: devstack {ready:.2f}s, bare moto floor {floor:.2f}s, ratio {ready / floor:.2f}x",
            f"GetItem median: devstack {dev:.3f} ms, bare moto {bare:.3f} ms, ratio {dev / bare:.3f}",
            f"(runs={runs}, calls={calls}; event latency: devstack bench events)",
        ]
    )
