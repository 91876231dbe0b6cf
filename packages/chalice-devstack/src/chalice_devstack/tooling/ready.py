"""`devstack bench ready`: devstack's figures against a bare moto server measured in the same run.

    devstack bench ready [--runs 3] [--calls 300] [--idle-seconds 60]

- time to ready: `devstack up` until it prints `devstack ready`, vs the floor: a bare
  moto server started the same way (a child process serving moto's WSGI app) until it answers
  its first call; medians of --runs, and their ratio. devstack's runs start from the snapshot
  its first, uncounted start saved (chalice_devstack.snapshot), as every start after a project's
  first does; that first start's time (provisioning and seeding) is printed beside them;
- dispatcher overhead: DynamoDB GetItem median latency through the devstack endpoint vs the
  bare moto server (same boto3 client settings), and their ratio;
- idle CPU: the share of one core each uses, with its children (devstack's endpoint child), over
  --idle-seconds of doing nothing once started (first run only; 0 skips it).
Event latency (SQS / stream -> handler start) is `devstack bench events`.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from chalice_devstack.snapshot import RESTORED_NOTE
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


def devstack(root: Path, cache: str) -> tuple[float, "subprocess.Popen[str]", int, bool]:
    """Start `devstack up` in root, snapshots in cache; (seconds until its ready line, process, AWS port, restored)."""
    port = free_port()
    env = {**os.environ, "DEVSTACK_AWS_PORT": str(port), "DEVSTACK_API_PORT": str(free_port()), "XDG_CACHE_HOME": cache}
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "chalice_devstack", "up"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    restored = False
    for line in process.stdout:
        restored = restored or line.rstrip() == RESTORED_NOTE
        if "devstack ready in" in line:
            return time.perf_counter() - began, process, port, restored
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


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process and its descendants have used so far, from /proc (Linux)."""
    ticks, parents, own = os.sysconf("SC_CLK_TCK"), {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # a process that ended while we looked
        child = int(stat.parent.name)
        parents[child], own[child] = int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks
    tree, grew = {pid}, True
    while grew:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree, grew = tree | more, bool(more)
    return sum(own.get(member, 0.0) for member in tree)


def idle_cpu_percent(pid: int, seconds: float) -> float:
    """The share of one core (%) a process tree uses over `seconds` while nobody calls it."""
    before, began = cpu_seconds(pid), time.perf_counter()
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / (time.perf_counter() - began)


def bench(root: Path, runs: int, calls: int, idle_seconds: float = 60.0) -> str:
    """Measure both setups `runs` times; the figures as a few lines."""
    with tempfile.TemporaryDirectory(prefix="devstack-bench-") as cache:
        first, stack, _port, _restored = devstack(root, cache)  # provisions, seeds and saves the snapshot
        stop(stack)
        return _bench_from_snapshot(root, cache, first, runs, calls, idle_seconds)


def _bench_from_snapshot(root: Path, cache: str, first: float, runs: int, calls: int, idle_seconds: float) -> str:
    """Both setups `runs` times, devstack from the snapshot in cache; the figures as a few lines."""
    floors, readies, bare_ms, dev_ms, bare_idle, dev_idle, restores = [], [], [], [], [], [], 0
    for run in range(runs):
        seconds, process, port = bare_moto(root)
        floors.append(seconds)
        bare_ms.append(get_item_median_ms(port, calls))
        if run == 0 and idle_seconds > 0:
            bare_idle.append(idle_cpu_percent(process.pid, idle_seconds))
        stop(process)
        seconds, stack, port, restored = devstack(root, cache)
        readies.append(seconds)
        restores += restored
        dev_ms.append(get_item_median_ms(port, calls))
        if run == 0 and idle_seconds > 0:
            dev_idle.append(idle_cpu_percent(stack.pid, idle_seconds))
        stop(stack)
    floor, ready = statistics.median(floors), statistics.median(readies)
    bare, dev = statistics.median(bare_ms), statistics.median(dev_ms)
    lines = [
        f"time to ready: devstack {ready:.2f}s, bare moto floor {floor:.2f}s, ratio {ready / floor:.2f}x"
        f" (from the snapshot in {restores} of {runs} runs; the first start, provisioning: {first:.2f}s,"
        f" {first / floor:.2f}x)",
        f"GetItem median: devstack {dev:.3f} ms, bare moto {bare:.3f} ms, ratio {dev / bare:.3f}",
    ]
    if dev_idle:
        lines.append(
            f"idle CPU over {idle_seconds:g} s: devstack {dev_idle[0]:.2f}% of a core, bare moto {bare_idle[0]:.2f}%"
        )
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    lines.append(f"(runs={runs}, calls={calls}, load average {load}; event latency: devstack bench events)")
    return "\n".join(lines)
