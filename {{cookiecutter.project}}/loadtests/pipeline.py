"""What this service's load test follows beyond HTTP: its measurements and pipeline sections, and how each is judged.

Pure functions (no locust import), so the unit tests run without the `load` extra. The user
classes fire the measurements and register these sections with chalice_devstack's
locust_support; `devstack load run` summarises them and `devstack load compare` judges them.
"""
{%- if cookiecutter.include_orders == 'y' %}

import json
import uuid
from collections.abc import Iterable, Mapping
{%- elif cookiecutter.include_uploads == 'y' %}

from collections.abc import Mapping
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' %}
from typing import Any

from chalice_devstack.tooling.load_report import section

# The measurements the users fire, as (request type, name); the summary names them "<type> <name>".
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
ORDER_TO_TERMINAL = ("PIPELINE", "order to terminal")
QUEUE_DRAIN = ("QUEUE", "flood drain")
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
UPLOAD_TO_READY = ("PIPELINE", "upload to ready")
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' %}


def measured(measurement: tuple[str, str]) -> str:
    """How the summary names a measurement: its request type and name, space-separated."""
    return " ".join(measurement)


def followed(counts: Mapping[str, Any], started: str, lost: str) -> dict[str, Any]:
    """A followed item's values from its Tracker counters: how many started, ended, got lost, and their outcomes."""
    return {
        started: int(counts.get("started", 0)),
        "reached_terminal": int(counts.get("terminal", 0)),
        lost: int(counts.get("lost", 0)),
        "outcomes": dict(sorted(counts.get("outcomes", {}).items())),
    }
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}


def orders_section(counts: Mapping[str, Any]) -> dict[str, Any]:
    """Orders placed and followed to CONFIRMED / CANCELLED: throughput, time to terminal, none lost."""
    return section(
        followed(counts, "placed", "orders_lost"),
        timings={"time_to_terminal": measured(ORDER_TO_TERMINAL)},
        rates={"orders_per_s": "reached_terminal"},
        judge={
            "orders_per_s": "higher",
            "time_to_terminal_p50_ms": "lower",
            "time_to_terminal_p95_ms": "lower",
            "orders_lost": "zero",
        },
    )


def queue_section(flood: Mapping[str, Any]) -> dict[str, Any]:
    """The orders queue flood: how fast bursts drain, and that the poison, and only the poison, reached the DLQ.

    Poison still out of the DLQ is missing only if the run waited until it was due (poison_due);
    a run too short for maxReceiveCount x VisibilityTimeout reports it as not due instead.
    """
    poison_sent, poison_in_dlq = int(flood.get("poison_sent", 0)), int(flood.get("poison_in_dlq", 0))
    due = bool(flood.get("poison_due", True))
    values = {
        "bursts": int(flood.get("bursts", 0)),
        "sent": int(flood.get("sent", 0)),
        "poison_sent": poison_sent,
        "poison_in_dlq": poison_in_dlq,
        "poison_missing": poison_sent - poison_in_dlq if due else 0,
        "poison_not_due": 0 if due else poison_sent - poison_in_dlq,
        "unexpected_in_dlq": int(flood.get("unexpected_in_dlq", 0)),
        "earlier_runs_in_dlq": int(flood.get("earlier_runs_in_dlq", 0)),
        "dlq_depth_after": int(flood.get("dlq_depth", 0)),
    }
    return section(
        values,
        timings={"drain": measured(QUEUE_DRAIN)},
        judge={"drain_p50_ms": "lower", "poison_missing": "zero", "unexpected_in_dlq": "zero"},
    )


POISON_MARK = "load-poison:"


def poison_body(run_id: str, n: int) -> str:
    """The n-th poison message of a run: an order id that does not exist, or (odd n) malformed JSON."""
    mark = f"{POISON_MARK}{run_id}"
    if n % 2:
        return f"{mark} this is not JSON"
    return json.dumps({"order_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{mark}/{n}")), "note": mark})


def classify_dlq_bodies(bodies: Iterable[str], run_id: str) -> dict[str, int]:
    """Count DLQ messages: this run's poison, poison of earlier runs, and anything else (unexpected)."""
    counts = {"poison_in_dlq": 0, "earlier_runs_in_dlq": 0, "unexpected_in_dlq": 0}
    for body in bodies:
        if f"{POISON_MARK}{run_id}" in body:
            counts["poison_in_dlq"] += 1
        elif POISON_MARK in body:
            counts["earlier_runs_in_dlq"] += 1
        else:
            counts["unexpected_in_dlq"] += 1
    return counts
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}


def uploads_section(counts: Mapping[str, Any]) -> dict[str, Any]:
    """Uploads followed to READY: time to ready, none lost."""
    return section(
        followed(counts, "started", "uploads_lost"),
        timings={"time_to_ready": measured(UPLOAD_TO_READY)},
        judge={"time_to_ready_p95_ms": "lower", "uploads_lost": "zero"},
    )
{%- endif %}
