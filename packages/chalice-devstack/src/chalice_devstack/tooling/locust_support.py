"""Locust glue for a project's locustfile: the run's settings, custom measurements, bounded polling, the run's files.

Needs the `load` extra, and only a locust process imports it: importing locust patches the
interpreter with gevent. `devstack load run` sets LOAD_REPORT_DIR, LOAD_RUN_ID and LOAD_STAGE.
User classes time what they follow beyond HTTP with `fire`, count it with a `Tracker` and
register a builder for its pipeline section (`register_section`, returning a
`load_report.section(...)`); when locust quits, STATS_FILE and PIPELINE_FILE are written into
REPORT_DIR for `devstack load summarize`.
"""

import json
import math
import os
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from locust import events as locust_events
from locust.env import Environment

from chalice_devstack.tooling.load_report import PIPELINE_FILE, STATS_FILE
from chalice_devstack.tooling.load_run import STOP_TIMEOUT_S, SWEEP_MARGIN_S

T = TypeVar("T")
# locust's event hooks are untyped: reached through Any, so strict mypy takes the calls as they are.
events: Any = locust_events
SectionBuilder = Callable[[], Mapping[str, Any]]

RUN_ID = os.environ.get("LOAD_RUN_ID") or uuid.uuid4().hex[:12]
STAGE = os.environ.get("LOAD_STAGE", "dev")
REPORT_DIR = Path(os.environ["LOAD_REPORT_DIR"]) if os.environ.get("LOAD_REPORT_DIR") else None
# Every wait in a user is bounded: a stuck pipeline shows up as "lost", never as a hung run.
POLL_INTERVAL_S = float(os.environ.get("LOAD_POLL_INTERVAL_S", "0.1"))
POLL_TIMEOUT_S = float(os.environ.get("LOAD_TERMINAL_TIMEOUT_S", "30"))
# About when `devstack load run` started this locust process; its timeout counts from then.
STARTED = time.monotonic()
# The driver's deadline for end-of-run work (epoch seconds): it stops locust a little after it.
FINISH_BY_EPOCH = float(os.environ["LOAD_FINISH_BY"]) if os.environ.get("LOAD_FINISH_BY") else None
# Kept back from that timeout for the quit listener to write the run's files.
WRITE_MARGIN_S = 10.0

# Pipeline sections by name; built when locust quits, once every counter is final.
SECTIONS: dict[str, SectionBuilder] = {}
_environment: list[Environment] = []


def fire(kind: str, name: str, started: float, error: Exception | None = None) -> None:
    """Record a custom measurement (time since perf_counter() `started`) next to the HTTP requests.

    `kind` is one of load_report.CUSTOM_TYPES, so the summary keeps it out of the HTTP totals.
    """
    events.request.fire(
        request_type=kind,
        name=name,
        response_time=(time.perf_counter() - started) * 1000,
        response_length=0,
        exception=error,
        context={},
    )


def poll(fetch: Callable[[], T | None], timeout_s: float = POLL_TIMEOUT_S) -> T | None:
    """Call fetch every POLL_INTERVAL_S until it returns something, at most timeout_s; None on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = fetch()
        if result is not None or time.monotonic() >= deadline:
            return result
        time.sleep(POLL_INTERVAL_S)


def finish_by(environment: Environment) -> float:
    """The monotonic time end-of-run work (test_stop listeners) must be done by; inf without a --run-time.

    `devstack load run` says when (LOAD_FINISH_BY) and stops locust a margin after it; a killed run leaves
    no files, so a sweep or a wait bounded by this still ends in a report. Run by hand, it is run time +
    stop timeout + sweep margin from the start, less the time to write the files.
    """
    if FINISH_BY_EPOCH is not None:
        return time.monotonic() + FINISH_BY_EPOCH - time.time()
    run_time = getattr(environment.parsed_options, "run_time", None)
    if not run_time:
        return math.inf
    return STARTED + float(run_time) + STOP_TIMEOUT_S + SWEEP_MARGIN_S - WRITE_MARGIN_S


@dataclass
class Tracker:
    """Things started by the load test and followed to a terminal state (orders, jobs, uploads...)."""

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
        """Note an item reached a terminal state (once: a late second answer is not counted again)."""
        if self.pending.pop(item_id, None) is not None:
            self.terminal += 1
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def give_up(self, item_id: str) -> None:
        """Note an item that never reached a terminal state."""
        if self.pending.pop(item_id, None) is not None:
            self.lost += 1

    def as_dict(self) -> dict[str, Any]:
        """The counters, for a pipeline section's values."""
        return {"started": self.started, "terminal": self.terminal, "lost": self.lost, "outcomes": self.outcomes}


def register_section(name: str, build: SectionBuilder) -> None:
    """Report pipeline section `name`, built by `build()` when locust quits.

    Call it from a user's on_start: only the sections of user classes that ran reach the summary.
    """
    SECTIONS[name] = build


def stats_entries(environment: Environment) -> list[dict[str, Any]]:
    """Locust's raw per-request stats (histograms included), as load_report reads them."""
    return [
        {
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
        for entry in environment.stats.entries.values()
        if entry.num_requests or entry.num_failures
    ]


def write_run_files(environment: Environment, report_dir: Path, run_id: str = RUN_ID) -> None:
    """Write STATS_FILE and PIPELINE_FILE ({"run_id", "sections"}) into report_dir."""
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / STATS_FILE).write_text(json.dumps(stats_entries(environment), indent=1))
    sections = {name: dict(build()) for name, build in SECTIONS.items()}
    (report_dir / PIPELINE_FILE).write_text(json.dumps({"run_id": run_id, "sections": sections}, indent=2))


def _remember_environment(environment: Environment, **_: Any) -> None:
    _environment.append(environment)


def _write_run_files(**_: Any) -> None:
    """After the last measurement (test_stop listeners included): write the run's files, when run by devstack."""
    if REPORT_DIR is not None and _environment:
        write_run_files(_environment[0], REPORT_DIR)


events.init.add_listener(_remember_environment)
events.quit.add_listener(_write_run_files)
