"""What every load-test user shares: settings from env, custom metrics, bounded polling, the run's files.

Imported by locust only (needs the `load` extra). Settings come from LOAD_* env vars that
`make load` (loadtests/run.py) sets; resource names come from .chalice/config.json for the
stage, the same place the functions read them from, unless LOAD_<NAME> overrides them.
"""

import json
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from chalice_devstack.project import Project
from locust import events
from locust.env import Environment

from loadtests.report import PIPELINE_FILE, STATS_FILE

T = TypeVar("T")

RUN_ID = os.environ.get("LOAD_RUN_ID") or uuid.uuid4().hex[:12]
STAGE = os.environ.get("LOAD_STAGE", "dev")
REPORT_DIR = Path(os.environ["LOAD_REPORT_DIR"]) if os.environ.get("LOAD_REPORT_DIR") else None
# Every wait in a user is bounded: a stuck pipeline shows up as "lost", never as a hung run.
POLL_INTERVAL_S = float(os.environ.get("LOAD_POLL_INTERVAL_S", "0.1"))
TERMINAL_TIMEOUT_S = float(os.environ.get("LOAD_TERMINAL_TIMEOUT_S", "30"))
WAIT_MAX_S = float(os.environ.get("LOAD_WAIT_MAX_S", "0.05"))


def resource_name(env_var: str) -> str:
    """A resource name: LOAD_<ENV_VAR> if set, else the stage's value in .chalice/config.json."""
    override = os.environ.get(f"LOAD_{env_var}")
    if override:
        return override
    return Project.discover(Path(__file__).parent).function_environment(STAGE)[env_var]


def aws_client(service: str) -> Any:
    """A boto3 client; AWS_ENDPOINT_URL (devstack) or the real account, as the service itself does."""
    import boto3  # imported late: only the queue user needs it

    return boto3.client(service)


def fire(kind: str, name: str, started: float, error: Exception | None = None) -> None:
    """Record a custom measurement (time since `started`) next to the HTTP requests."""
    events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


def poll(fetch: Callable[[], T | None], timeout_s: float = TERMINAL_TIMEOUT_S) -> T | None:
    """Call fetch every POLL_INTERVAL_S until it returns something, at most timeout_s; None on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if result is not None or time.monotonic() >= deadline:
            return result
        time.sleep(POLL_INTERVAL_S)


def new_key() -> str:
    """A fresh idempotency key / unique suffix."""
    return uuid.uuid4().hex


@dataclass
class Tracker:
    """Things started by the load test and followed to a terminal state (orders, uploads)."""

    started: int = 0
    terminal: int = 0
    lost: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    # id -> perf_counter() when it was started; what is left at the end gets a last, bounded look.
    pending: dict[str, float] = field(default_factory=dict)

    def start(self, item_id: str, started: float) -> None:
        """Note a new item (e.g. an accepted order)."""
        self.started += 1
        self.pending[item_id] = started

    def finish(self, item_id: str, outcome: str) -> None:
        """Note an item reached a terminal state."""
        if self.pending.pop(item_id, None) is not None:
            self.terminal += 1
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def as_dict(self) -> dict[str, Any]:
        """The counters for pipeline.json."""
        return {"started": self.started, "terminal": self.terminal, "lost": self.lost, "outcomes": self.outcomes}


# pipeline.json sections, registered by the user classes that ran (on_start); only these reach the summary.
PIPELINE: dict[str, Any] = {}
_environment: list[Environment] = []


@events.init.add_listener
def _remember_environment(environment: Environment, **_: Any) -> None:
    _environment.append(environment)


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "method": entry.method,
        "name": entry.name,
        "num_requests": entry.num_requests,
        "num_failures": entry.num_failures,
        "total_response_time": entry.total_response_time,
        "max_response_time": entry.max_response_time,
        "start_time": entry.start_time,
        "last_request_timestamp": entry.last_request_timestamp,
        "response_times": entry.response_times,
    }


@events.quit.add_listener
def _write_run_files(**_: Any) -> None:
    """After the last measurement (test_stop included): dump raw stats and pipeline counters."""
    if REPORT_DIR is None or not _environment:
        return
    stats = _environment[0].stats
    entries = [_entry(entry) for entry in stats.entries.values() if entry.num_requests or entry.num_failures]
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / STATS_FILE).write_text(json.dumps(entries, indent=1))
    pipeline = {name: section() if callable(section) else section for name, section in PIPELINE.items()}
    (REPORT_DIR / PIPELINE_FILE).write_text(json.dumps({"run_id": RUN_ID, **pipeline}, indent=2))
