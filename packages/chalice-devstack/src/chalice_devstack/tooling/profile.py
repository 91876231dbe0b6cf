"""`devstack profile`: where a request's time goes: N calls of one API request in one process, by code group.

moto runs in-process (mock_aws with the project's resources), the app behind chalice.test.Client, so the
sampling profiler (pyinstrument) sees all the CPU a request costs. Each sample's time goes to the group of
its innermost frame that has one (project, moto, aws sdk, chalice, powertools, pydantic): the stdlib,
werkzeug, responses or xmltodict count for whoever called them; samples with no such frame are `other`.

    devstack profile [--method POST] [--path /items] [--body '{"name": "x"}'] [--header 'K: {uuid}']
                     [--expect 201] [--seed] [--requests 300] [--json]

`{uuid}` in the path, body or a header is a fresh uuid4 hex per request (idempotency keys, unique names).
"""

import argparse
import os
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from heapq import nlargest
from pathlib import Path
from typing import Any

from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling.app_loader import load_app

GROUPS = ("project", "moto", "aws sdk", "chalice", "powertools", "pydantic", "other")
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
MAX_REQUESTS = 5000
WARM_UP = 5  # requests before any measurement: first-call set-up belongs to the cold start
INTERVAL_S = 0.0005

Call = Callable[[], None]


@lru_cache(maxsize=4096)
def file_group(path: str, root: Path) -> str | None:
    """The group of the code in one file, or None for code that counts for its caller."""
    _, marker, installed = path.rpartition("site-packages" + os.sep)
    if marker:
        return PACKAGE_GROUPS.get(installed.split(os.sep, 1)[0].removesuffix(".py"))
    return "project" if Path(os.path.abspath(path)).is_relative_to(root) else None


def sample_group(files: Sequence[str], root: Path) -> str:
    """The group a sample's time counts for: its innermost frame (files root first) that has one."""
    return next((group for path in reversed(files) if (group := file_group(path, root))), "other")


def frame_parts(frame_info: str) -> tuple[str, str]:
    """(function, file) of a pyinstrument frame record entry."""
    function, path, *_ = frame_info.split("\x01", 1)[0].split("\x00")
    return function, path


def attribute(records: Sequence[tuple[Sequence[str], float]], root: Path) -> tuple[dict[str, float], dict[str, float]]:
    """Seconds by group, and seconds by project function (the innermost project frame of a sample)."""
    groups = dict.fromkeys(GROUPS, 0.0)
    functions: defaultdict[str, float] = defaultdict(float)
    for stack, seconds in records:
        frames = [frame_parts(info) for info in stack]
        group = sample_group([path for _, path in frames], root)
        groups[group] += seconds
        if group == "project":
            function, path = next(f for f in reversed(frames) if file_group(f[1], root) == "project")
            functions[f"{os.path.relpath(path, root)}:{function}"] += seconds
    return groups, functions


@dataclass(frozen=True)
class Request:
    """The API request to profile; `{uuid}` anywhere in it is a fresh uuid4 hex per call."""

    method: str = "GET"
    path: str = "/"
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    expect: int = 200

    @property
    def route(self) -> str:
        """How the figures name it."""
        return f"{self.method} {self.path}"

    def call(self, client: Any) -> Call:
        """A function that sends the request once and stops on an unexpected status."""

        def send() -> None:
            fresh = uuid.uuid4().hex
            headers = {key: value.replace("{uuid}", fresh) for key, value in self.headers.items()}
            path, body = self.path.replace("{uuid}", fresh), self.body.replace("{uuid}", fresh)
            expect(client.http.request(self.method, path, body=body.encode(), headers=headers), self.expect)

        return send


def parse_header(text: str) -> tuple[str, str]:
    """A `Name: value` header argument."""
    name, separator, value = text.partition(":")
    if not separator or not name.strip():
        raise ValueError(f"not a header: {text!r} (use 'Name: value')")
    return name.strip(), value.strip()


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


def run_seed(settings: Settings) -> None:
    """Call the project's seed hook (`seed` setting, `module:function`) on the in-process AWS."""
    import importlib

    module, _, function = settings.seed.partition(":")
    if not module:
        raise SystemExit("--seed: no `seed` setting in [tool.devstack]")
    getattr(importlib.import_module(module), function or "seed_all")()


def profile(project: Project, settings: Settings, request: Request, requests: int, seed: bool) -> dict[str, Any]:
    """Time `requests` calls of the request, then profile as many; return the figures."""
    from chalice.test import Client
    from pyinstrument import Profiler

    from chalice_devstack.inprocess import mocked_aws, use_mock_environment

    use_mock_environment(project, settings.stage, settings.region)
    app = load_app(project, settings.stage)
    profiler = Profiler(interval=INTERVAL_S)
    with stdout_to_devnull(), mocked_aws(app, project, settings.stage, settings.region), Client(app) as client:
        if seed:
            run_seed(settings)
        call = request.call(client)
        timed(call, WARM_UP)
        unprofiled_ms = timed(call, requests)
        profiler.start()
        profiled_ms = timed(call, requests)
        session = profiler.stop()
    groups, functions = attribute(session.frame_records, project.root)
    total = sum(groups.values())
    return {
        "route": request.route,
        "requests": requests,
        "ms_per_request": unprofiled_ms,
        "profiled_ms_per_request": profiled_ms,
        "groups": {name: {"seconds": s, "share": s / total if total else 0.0} for name, s in groups.items()},
        "top_project": [{"function": f, "seconds": s} for f, s in nlargest(10, functions.items(), key=lambda i: i[1])],
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
    lines.append("  top project functions by self-time (with the stdlib they call):")
    for row in figures["top_project"]:
        lines.append(f"  {row['seconds'] * 1000 / requests:8.3f} ms/request  {row['function']}")
    return "\n".join(lines)


def bounded(text: str) -> int:
    """argparse type: a request count from 1 to MAX_REQUESTS."""
    value = int(text)
    if not 1 <= value <= MAX_REQUESTS:
        raise argparse.ArgumentTypeError(f"must be 1..{MAX_REQUESTS}")
    return value
