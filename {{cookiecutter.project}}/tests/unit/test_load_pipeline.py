"""The load test's pipeline sections: what each reports and judges once summarised, and the poison in the DLQ.

No locust needed: loadtests.pipeline is pure, and chalice_devstack's load_report summarises as `devstack load` does.
"""
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' %}
{% if cookiecutter.include_orders == 'y' %}
import json
{%- endif %}
from typing import Any

from chalice_devstack.tooling.load_report import build_summary

from loadtests import pipeline


def timed(measurement: tuple[str, str], times: dict[int, int]) -> dict[str, Any]:
    """A raw locust stats entry of a custom measurement (response time ms -> count), as locust_support dumps it."""
    kind, name = measurement
    return {
        "method": kind,
        "name": name,
        "num_requests": sum(times.values()),
        "num_failures": 0,
        "total_response_time": sum(time * count for time, count in times.items()),
        "max_response_time": max(times),
        "response_times": {str(time): count for time, count in times.items()},
    }


def summarised(name: str, spec: dict[str, Any], entries: list[dict[str, Any]]) -> tuple[dict[str, Any], dict[str, str]]:
    """One section summarised over a 10 s run: its values, and its judge entries."""
    summary = build_summary(entries, {"sections": {name: spec}}, {"duration_s": 10})
    return summary["pipeline"][name], summary["judge"]
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}


def test_orders_section_reports_throughput_time_to_terminal_and_lost() -> None:
    """Given 40 orders placed, 38 terminal and 2 lost, with their times to terminal,
    when summarised over 10 s,
    then the section has the counts, sorted outcomes, p50/p95 time to terminal and orders/s, judged as intended."""
    counts = {"started": 40, "terminal": 38, "lost": 2, "outcomes": {"CONFIRMED": 30, "CANCELLED:OutOfStock": 8}}
    entries = [timed(pipeline.ORDER_TO_TERMINAL, {300: 36, 2000: 2})]
    values, judge = summarised("orders", pipeline.orders_section(counts), entries)
    assert values == {
        "placed": 40,
        "reached_terminal": 38,
        "orders_lost": 2,
        "outcomes": {"CANCELLED:OutOfStock": 8, "CONFIRMED": 30},
        "time_to_terminal_p50_ms": 300,
        "time_to_terminal_p95_ms": 2000,
        "time_to_terminal_max_ms": 2000,
        "orders_per_s": 3.8,
    }
    assert judge == {
        "orders.orders_per_s": "higher",
        "orders.time_to_terminal_p50_ms": "lower",
        "orders.time_to_terminal_p95_ms": "lower",
        "orders.orders_lost": "zero",
    }


def test_queue_section_counts_poison_missing_from_the_dlq() -> None:
    """Given a flood of 2 bursts with 4 poison messages of which 3 reached the DLQ beside 1 unexpected message,
    when summarised,
    then one poison is missing, the drain time is reported, and missing or unexpected DLQ messages must stay zero."""
    flood = {"bursts": 2, "sent": 200, "poison_sent": 4, "poison_in_dlq": 3, "unexpected_in_dlq": 1, "dlq_depth": 4}
    values, judge = summarised("queue", pipeline.queue_section(flood), [timed(pipeline.QUEUE_DRAIN, {900: 2})])
    assert (values["poison_missing"], values["unexpected_in_dlq"], values["dlq_depth_after"]) == (1, 1, 4)
    assert values["drain_p50_ms"] == 900
    assert judge == {"queue.drain_p50_ms": "lower", "queue.poison_missing": "zero", "queue.unexpected_in_dlq": "zero"}


def test_poison_not_yet_due_is_not_missing() -> None:
    """Given a run too short for 3 poison messages to reach the DLQ (poison_due false), none there yet,
    when the queue section is built,
    then the 3 are reported as not due, and none as missing."""
    values = pipeline.queue_section({"poison_sent": 3, "poison_in_dlq": 0, "poison_due": False})["values"]
    assert (values["poison_missing"], values["poison_not_due"]) == (0, 3)


def test_poison_is_recognised_by_run() -> None:
    """Given this run's poison, an earlier run's poison and a real order message in the DLQ,
    when classified,
    then each is counted where it belongs, and poison is malformed JSON or an order id that cannot exist."""
    bodies = [pipeline.poison_body("run1", 0), pipeline.poison_body("run1", 1), pipeline.poison_body("run0", 0)]
    bodies.append(json.dumps({"order_id": "6f1c2b1e-0000-4000-8000-000000000000"}))
    assert pipeline.classify_dlq_bodies(bodies, "run1") == {
        "poison_in_dlq": 2,
        "earlier_runs_in_dlq": 1,
        "unexpected_in_dlq": 1,
    }
    first, third = (json.loads(pipeline.poison_body("run1", n))["order_id"] for n in (0, 2))
    assert first != third
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}


def test_uploads_section_reports_time_to_ready_and_lost() -> None:
    """Given 20 uploads started, 19 READY and 1 lost, with their times to ready,
    when summarised,
    then the section has the counts and p95 time to ready, and judges p95 lower and lost uploads zero."""
    counts = {"started": 20, "terminal": 19, "lost": 1, "outcomes": {"READY": 19}}
    entries = [timed(pipeline.UPLOAD_TO_READY, {150: 18, 700: 1})]
    values, judge = summarised("uploads", pipeline.uploads_section(counts), entries)
    assert (values["started"], values["reached_terminal"], values["uploads_lost"]) == (20, 19, 1)
    assert values["time_to_ready_p95_ms"] == 700
    assert judge == {"uploads.time_to_ready_p95_ms": "lower", "uploads.uploads_lost": "zero"}
{%- endif %}
