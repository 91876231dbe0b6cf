"""Where a request's time goes: profile N calls of one API route in one process, by code group.

moto runs in-process (the tests' mock_aws), the app behind chalice.test.Client, so the sampling profiler
(pyinstrument) sees all the CPU a request costs. Each sample's time goes to the group of its innermost
frame that has one (service, moto, aws sdk, chalice, powertools, pydantic): the stdlib, werkzeug,
responses or xmltodict count for whoever called them; samples with no such frame are `other`.
Usage: python -m scripts.profile_request [--requests 300] [--path users{% if cookiecutter.include_orders == 'y' %}|orders{% endif %}] [--json]
"""

import argparse
import json
import os
import sys
import time
{%- if cookiecutter.include_orders == 'y' %}
import uuid
{%- endif %}
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from heapq import nlargest
from typing import Any

from devstack.inprocess import mocked_aws, use_mock_environment
from devstack.project import PROJECT_DIR

GROUPS = ("service", "moto", "aws sdk", "chalice", "powertools", "pydantic", "other")
# Top-level package in site-packages -> group; a package not listed counts for its caller.
PACKAGE_GROUPS = {
    "moto": "moto",
    "boto3": "aws sdk",
    "botocore": "aws sdk",
    "pynamodb": "aws sdk",
    "chalice": "chalice",
    "aws_lambda_powertools": "powertools",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "pydantic_settings": "pydantic",
}
SERVICE_FILES = (str(PROJECT_DIR / "chalicelib") + os.sep, str(PROJECT_DIR / "app.py"))
MAX_REQUESTS = 5000
WARM_UP = 5  # requests before any measurement: first-call set-up belongs to the cold start
INTERVAL_S = 0.0005

Call = Callable[[], None]


@lru_cache(maxsize=4096)
def file_group(path: str) -> str | None:
    """The group of the code in one file, or None for code that counts for its caller."""
    _, marker, installed = path.rpartition("site-packages" + os.sep)
    if marker:
        return PACKAGE_GROUPS.get(installed.split(os.sep, 1)[0].removesuffix(".py"))
    return "service" if os.path.abspath(path).startswith(SERVICE_FILES) else None


def sample_group(files: Sequence[str]) -> str:
    """The group a sample's time counts for: its innermost frame (files root first) that has one."""
    return next((group for path in reversed(files) if (group := file_group(path))), "other")


def frame_parts(frame_info: str) -> tuple[str, str]:
    """(function, file) of a pyinstrument frame record entry."""
    function, path, *_ = frame_info.split("\x01", 1)[0].split("\x00")
    return function, path


def attribute(records: Sequence[tuple[Sequence[str], float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds by group, and seconds by service function (the innermost service frame of a sample)."""
    groups = dict.fromkeys(GROUPS, 0.0)
    functions: defaultdict[str, float] = defaultdict(float)
    for stack, seconds in records:
        frames = [frame_parts(info) for info in stack]
        group = sample_group([path for _, path in frames])
        groups[group] += seconds
        if group == "service":
            function, path = next(f for f in reversed(frames) if file_group(f[1]) == "service")
            functions[f"{os.path.relpath(path, PROJECT_DIR)}:{function}"] += seconds
    return groups, functions


JSON = {"Content-Type": "application/json"}


def create_user(client: Any) -> str:
    """A new user's id (created through the API)."""
    response = client.http.post("/users", body=json.dumps({"name": "Ada", "email": "ada@example.com"}), headers=JSON)
    expect(response, 201)
    return str(response.json_body["id"])


def users_request(client: Any) -> tuple[str, Call]:
    """GET /users/{id} of a user created now."""
    path = f"/users/{create_user(client)}"
    return "GET /users/{id}", lambda: expect(client.http.get(path), 200)
{%- if cookiecutter.include_orders == 'y' %}


def orders_request(client: Any) -> tuple[str, Call]:
    """POST /orders (each with its own Idempotency-Key) by a user created now, on the seeded catalogue."""
    from scripts.seed import seed_all

    seed_all()
    order = {"user_id": create_user(client), "items": [{"product_id": "kettle", "quantity": 1}]}
    body = json.dumps({**order, "payment_token": "tok_approve"})

    def place() -> None:
        headers = {**JSON, "Idempotency-Key": uuid.uuid4().hex}
        expect(client.http.post("/orders", body=body, headers=headers), 202)

    return "POST /orders", place
{%- endif %}


REQUESTS = {"users": users_request{% if cookiecutter.include_orders == 'y' %}, "orders": orders_request{% endif %}}


def expect(response: Any, status: int) -> None:
    """Stop on an unexpected answer: a profile of the error path would mislead."""
    if response.status_code != status:
        raise SystemExit(f"expected {status}, got {response.status_code}: {response.body!r}")


@contextmanager
def stdout_to_devnull() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null: the app still formats and writes every log line, unseen."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def timed(call: Call, requests: int) -> float:
    """Milliseconds per call."""
    start = time.perf_counter()
    for _ in range(requests):
        call()
    return (time.perf_counter() - start) * 1000 / requests


def profile(path: str, requests: int) -> dict[str, Any]:
    """Time `requests` calls of one route, then profile as many; return the figures."""
    from chalice.test import Client
    from pyinstrument import Profiler

    from app import app

    profiler = Profiler(interval=INTERVAL_S)
    with stdout_to_devnull(), mocked_aws(app), Client(app) as client:
        route, call = REQUESTS[path](client)
        timed(call, WARM_UP)
        unprofiled_ms = timed(call, requests)
        profiler.start()
        profiled_ms = timed(call, requests)
        session = profiler.stop()
    groups, functions = attribute(session.frame_records)
    total = sum(groups.values())
    return {
        "route": route,
        "requests": requests,
        "ms_per_request": unprofiled_ms,
        "profiled_ms_per_request": profiled_ms,
        "groups": {name: {"seconds": s, "share": s / total if total else 0.0} for name, s in groups.items()},
        "top_service": [{"function": f, "seconds": s} for f, s in nlargest(10, functions.items(), key=lambda i: i[1])],
    }


def render(figures: dict[str, Any]) -> str:
    """The figures as a readable table."""
    requests, ms, profiled_ms = figures["requests"], figures["ms_per_request"], figures["profiled_ms_per_request"]
    lines = [
        f"{figures['route']}: {requests} requests, one process (moto in-process, chalice.test.Client), pyinstrument",
        f"  {ms:.2f} ms per request ({profiled_ms:.2f} ms while profiled: the shares below are of profiled time)",
        f"  {'group':12} {'seconds':>8} {'share':>7}",
    ]
    for name, row in figures["groups"].items():
        lines.append(f"  {name:12} {row['seconds']:8.3f} {row['share'] * 100:6.1f}%")
    lines.append("  top service functions by self-time (with the stdlib they call):")
    for row in figures["top_service"]:
        lines.append(f"  {row['seconds'] * 1000 / requests:8.3f} ms/request  {row['function']}")
    return "\n".join(lines)


def bounded(text: str) -> int:
    """argparse type: a request count from 1 to MAX_REQUESTS."""
    value = int(text)
    if not 1 <= value <= MAX_REQUESTS:
        raise argparse.ArgumentTypeError(f"must be 1..{MAX_REQUESTS}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Profile one route and print where its time goes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=bounded, default=300, help=f"profiled requests (1..{MAX_REQUESTS})")
    parser.add_argument("--path", choices=sorted(REQUESTS), default="users", help="the route to profile")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args(argv)
    use_mock_environment()
    figures = profile(args.path, args.requests)
    print(json.dumps(figures) if args.json else render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
