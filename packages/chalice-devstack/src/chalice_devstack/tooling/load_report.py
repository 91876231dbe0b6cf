"""Load-test reports: summarise a locust run, print it, compare it against a baseline.

Pure functions over plain data (no locust import), so the unit tests run without the
`load` extra. The locust side (loadtests/common.py) dumps its raw stats and the pipeline
counters as JSON; `summarize` turns them into summary.json.

    python -m loadtests.report summarize loadtests/reports/<run>
    python -m loadtests.report compare loadtests/reports/<run> <baseline dir or summary.json>
"""

import argparse
import json
import math
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
# Request types the locustfile fires for its own measurements, not HTTP calls.
CUSTOM_TYPES = frozenset({"PIPELINE", "QUEUE"})
ORDER_TO_TERMINAL = "order to terminal"
UPLOAD_TO_READY = "upload to ready"
QUEUE_DRAIN = "flood drain"
STATS_FILE = "locust_stats.json"
PIPELINE_FILE = "pipeline.json"
META_FILE = "run.json"
SUMMARY_FILE = "summary.json"
DEFAULT_THRESHOLD = 0.20
# Latency changes smaller than this many ms are noise on a laptop, whatever the ratio.
DEFAULT_MIN_DELTA_MS = 5.0
# Endpoints with fewer requests than this in either run are too small a sample to judge.
DEFAULT_MIN_REQUESTS = 30

Histogram = Mapping[Any, int]


def percentile(histogram: Histogram, fraction: float) -> float:
    """The smallest response time (ms) at or below which `fraction` of the samples fall; 0 if none."""
    counts = sorted((float(time), count) for time, count in histogram.items() if count > 0)
    total = sum(count for _, count in counts)
    if total == 0:
        return 0.0
    rank = max(1, math.ceil(fraction * total))
    seen = 0
    for time, count in counts:
        seen += count
        if seen >= rank:
            return time
    return counts[-1][0]


def merge_histograms(histograms: Iterable[Histogram]) -> dict[str, int]:
    """Add response-time histograms bucket by bucket."""
    merged: dict[str, int] = {}
    for histogram in histograms:
        for time, count in histogram.items():
            key = str(int(float(time)))
            merged[key] = merged.get(key, 0) + count
    return merged


def entry_metrics(entry: Mapping[str, Any], duration_s: float = 0.0) -> dict[str, float]:
    """Requests, failures, rps and latency percentiles of one locust stats entry.

    rps is over the run's duration when known: an entry's own first-to-last span inflates
    the rate of a request made only a few times (e.g. in on_start).
    """
    requests = int(entry.get("num_requests", 0))
    failures = int(entry.get("num_failures", 0))
    histogram: Histogram = entry.get("response_times", {})
    span = float(entry.get("last_request_timestamp") or 0) - float(entry.get("start_time") or 0)
    elapsed = duration_s if duration_s > 0 else max(span, 0.0)
    return {
        "requests": requests,
        "failures": failures,
        "failure_ratio": round(failures / requests, 4) if requests else 0.0,
        "rps": round(requests / elapsed, 2) if elapsed > 0 else 0.0,
        "avg_ms": round(float(entry.get("total_response_time", 0)) / requests, 2) if requests else 0.0,
        "p50_ms": percentile(histogram, 0.50),
        "p95_ms": percentile(histogram, 0.95),
        "p99_ms": percentile(histogram, 0.99),
        "max_ms": float(entry.get("max_response_time") or 0),
    }


def endpoint_key(entry: Mapping[str, Any]) -> str:
    """How a stats entry is named in the summary: 'GET /users/{id}'."""
    return f"{entry['method']} {entry['name']}"


def total_metrics(entries: Sequence[Mapping[str, Any]], duration_s: float = 0.0) -> dict[str, float]:
    """The metrics of every HTTP entry taken together (custom measurements excluded)."""
    http = [entry for entry in entries if entry["method"] not in CUSTOM_TYPES]
    if not http:
        return entry_metrics({})
    combined = {
        "num_requests": sum(int(entry.get("num_requests", 0)) for entry in http),
        "num_failures": sum(int(entry.get("num_failures", 0)) for entry in http),
        "total_response_time": sum(float(entry.get("total_response_time", 0)) for entry in http),
        "max_response_time": max(float(entry.get("max_response_time") or 0) for entry in http),
        "start_time": min(float(entry.get("start_time") or 0) for entry in http),
        "last_request_timestamp": max(float(entry.get("last_request_timestamp") or 0) for entry in http),
        "response_times": merge_histograms(entry.get("response_times", {}) for entry in http),
    }
    return entry_metrics(combined, duration_s)


def _custom(endpoints: Mapping[str, Mapping[str, float]], kind: str, name: str) -> Mapping[str, float]:
    return endpoints.get(f"{kind} {name}", {})


def _followed(
    counts: Mapping[str, Any], timing: Mapping[str, float], started: str, lost: str, time_name: str
) -> dict[str, Any]:
    """A pipeline section: how many started, ended, got lost, their outcomes and time to the end."""
    return {
        started: int(counts.get("started", 0)),
        "reached_terminal": int(counts.get("terminal", 0)),
        lost: int(counts.get("lost", 0)),
        "outcomes": dict(sorted(counts.get("outcomes", {}).items())),
        f"{time_name}_p50_ms": timing.get("p50_ms", 0.0),
        f"{time_name}_p95_ms": timing.get("p95_ms", 0.0),
    }


def build_summary(
    entries: Sequence[Mapping[str, Any]], pipeline: Mapping[str, Any], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The summary.json of a run: per-endpoint metrics, totals and the pipeline outcomes."""
    duration = float(meta.get("duration_s") or 0)
    endpoints = {endpoint_key(entry): entry_metrics(entry, duration) for entry in entries}
    summary: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run": dict(meta),
        "endpoints": dict(sorted(endpoints.items())),
        "total": total_metrics(entries, duration),
    }
    orders = pipeline.get("orders")
    if orders is not None:
        timing = _custom(endpoints, "PIPELINE", ORDER_TO_TERMINAL)
        summary["orders"] = _followed(orders, timing, "placed", "orders_lost", "time_to_terminal")
        summary["orders"]["orders_per_s"] = round(int(orders.get("terminal", 0)) / duration, 2) if duration > 0 else 0.0
    uploads = pipeline.get("uploads")
    if uploads is not None:
        timing = _custom(endpoints, "PIPELINE", UPLOAD_TO_READY)
        summary["uploads"] = _followed(uploads, timing, "started", "uploads_lost", "time_to_ready")
    queue = pipeline.get("queue")
    if queue is not None:
        drain = _custom(endpoints, "QUEUE", QUEUE_DRAIN)
        summary["queue"] = {
            "bursts": int(queue.get("bursts", 0)),
            "sent": int(queue.get("sent", 0)),
            "poison_sent": int(queue.get("poison_sent", 0)),
            "drain_p50_ms": drain.get("p50_ms", 0.0),
            "drain_max_ms": drain.get("max_ms", 0.0),
        }
        summary["dlq"] = {
            "poison_in_dlq": int(queue.get("poison_in_dlq", 0)),
            "poison_missing": int(queue.get("poison_sent", 0)) - int(queue.get("poison_in_dlq", 0)),
            "unexpected_in_dlq": int(queue.get("unexpected_in_dlq", 0)),
            "earlier_runs_in_dlq": int(queue.get("earlier_runs_in_dlq", 0)),
            "depth_after": int(queue.get("dlq_depth", 0)),
        }
    return summary


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


def format_table(summary: Mapping[str, Any]) -> str:
    """A short plain-text table of a summary, for the terminal."""
    header = f"{'endpoint':<40} {'reqs':>7} {'fail':>5} {'rps':>8} {'p50':>7} {'p95':>7} {'p99':>7}"
    lines = [header, "-" * len(header)]
    rows = [*summary["endpoints"].items(), ("TOTAL (HTTP)", summary["total"])]
    for name, metrics in rows:
        lines.append(
            f"{name[:40]:<40} {metrics['requests']:>7} {metrics['failures']:>5} {metrics['rps']:>8.1f} "
            f"{metrics['p50_ms']:>7.0f} {metrics['p95_ms']:>7.0f} {metrics['p99_ms']:>7.0f}"
        )
    lines.append("(latencies in ms)")
    for section in ("orders", "uploads", "queue", "dlq"):
        if section in summary:
            values = ", ".join(f"{key}={value}" for key, value in summary[section].items())
            lines.append(f"{section}: {values}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Comparison:
    """One metric of a run against the same metric of the baseline."""

    metric: str
    baseline: float
    current: float
    ratio: float | None
    regression: bool
    note: str = ""


def _ratio(current: float, baseline: float) -> float | None:
    return round(current / baseline, 3) if baseline else None


def _compare_endpoint(
    name: str, base: Mapping[str, float], cur: Mapping[str, float], threshold: float, min_delta_ms: float
) -> list[Comparison]:
    results = []
    for metric in ("rps", "p50_ms", "p95_ms", "p99_ms"):
        b, c = float(base.get(metric, 0)), float(cur.get(metric, 0))
        ratio = _ratio(c, b)
        if metric == "rps":
            worse = ratio is not None and ratio < 1 - threshold
        else:
            worse = ratio is not None and ratio > 1 + threshold and c - b > min_delta_ms
        results.append(Comparison(f"{name} {metric}", b, c, ratio, worse))
    b, c = float(base.get("failure_ratio", 0)), float(cur.get("failure_ratio", 0))
    # Failure ratios are compared in absolute points: 0 -> 0.5% is a regression a ratio cannot show.
    results.append(Comparison(f"{name} failure_ratio", b, c, _ratio(c, b), c - b > 0.005))
    return results


# Pipeline metrics: (section, key, direction) where direction is "higher", "lower" or "zero" (must stay 0).
PIPELINE_METRICS = (
    ("orders", "orders_per_s", "higher"),
    ("orders", "time_to_terminal_p50_ms", "lower"),
    ("orders", "time_to_terminal_p95_ms", "lower"),
    ("orders", "orders_lost", "zero"),
    ("uploads", "time_to_ready_p95_ms", "lower"),
    ("uploads", "uploads_lost", "zero"),
    ("queue", "drain_p50_ms", "lower"),
    ("dlq", "poison_missing", "zero"),
    ("dlq", "unexpected_in_dlq", "zero"),
)


def compare(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    threshold: float = DEFAULT_THRESHOLD,
    min_delta_ms: float = DEFAULT_MIN_DELTA_MS,
    min_requests: int = DEFAULT_MIN_REQUESTS,
) -> list[Comparison]:
    """Every metric both runs have, flagged where the current run is worse beyond the threshold."""
    results: list[Comparison] = []
    base_endpoints, cur_endpoints = baseline.get("endpoints", {}), current.get("endpoints", {})
    for name in sorted(set(base_endpoints) | set(cur_endpoints)):
        if name not in cur_endpoints or name not in base_endpoints:
            where = "baseline" if name in base_endpoints else "current run"
            results.append(Comparison(name, 0, 0, None, False, f"only in the {where}"))
            continue
        base, cur = base_endpoints[name], cur_endpoints[name]
        if min(base["requests"], cur["requests"]) < min_requests:
            results.append(Comparison(name, base["requests"], cur["requests"], None, False, "too few requests"))
            continue
        results.extend(_compare_endpoint(name, base, cur, threshold, min_delta_ms))
    for section, key, direction in PIPELINE_METRICS:
        if key not in baseline.get(section, {}) or key not in current.get(section, {}):
            continue
        b, c = float(baseline[section][key]), float(current[section][key])
        ratio = _ratio(c, b)
        if direction == "zero":
            worse = c > 0
        elif direction == "higher":
            worse = ratio is not None and ratio < 1 - threshold
        else:
            worse = ratio is not None and ratio > 1 + threshold and c - b > min_delta_ms
        results.append(Comparison(f"{section}.{key}", b, c, ratio, worse))
    return results


PROFILE_KEYS = ("users", "spawn_rate", "run_time", "classes", "tags", "devstack")


def profile_differences(current: Mapping[str, Any], baseline: Mapping[str, Any]) -> list[str]:
    """The load profile settings that differ between two runs (their numbers are then not comparable)."""
    cur, base = current.get("run", {}), baseline.get("run", {})
    return [f"{key}: baseline {base.get(key)!r}, current {cur.get(key)!r}" for key in PROFILE_KEYS
            if key in cur and key in base and cur[key] != base[key]]  # fmt: skip


def format_comparison(results: list[Comparison], threshold: float) -> str:
    """A table of the comparison, regressions marked, with a one-line verdict."""
    lines = [f"{'metric':<52} {'baseline':>10} {'current':>10} {'ratio':>7}"]
    for item in results:
        ratio = "-" if item.ratio is None else f"{item.ratio:.2f}"
        flag = "  REGRESSION" if item.regression else (f"  ({item.note})" if item.note else "")
        lines.append(f"{item.metric[:52]:<52} {item.baseline:>10.4g} {item.current:>10.4g} {ratio:>7}{flag}")
    regressions = sum(item.regression for item in results)
    verdict = f"{regressions} regression(s)" if regressions else "no regressions"
    lines.append(f"{verdict} (threshold {threshold:.0%})")
    return "\n".join(lines)


def read_summary(path: Path) -> dict[str, Any]:
    """Load a summary.json, given the file or the run folder holding it."""
    file = path / SUMMARY_FILE if path.is_dir() else path
    data: dict[str, Any] = json.loads(file.read_text())
    return data


def summarize(run_dir: Path) -> dict[str, Any]:
    """Build and write run_dir/summary.json from the files the locust run left there."""

    def load(name: str, default: Any) -> Any:
        file = run_dir / name
        return json.loads(file.read_text()) if file.exists() else default

    summary = build_summary(load(STATS_FILE, []), load(PIPELINE_FILE, {}), load(META_FILE, {}))
    (run_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> int:
    """CLI: `summarize RUN_DIR` or `compare RUN BASELINE [--threshold 0.2]`; exit 1 on regression."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.report", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summarize_cmd = commands.add_parser("summarize", help="write and print summary.json of a run folder")
    summarize_cmd.add_argument("run_dir", type=Path)
    compare_cmd = commands.add_parser("compare", help="compare a run against a baseline")
    compare_cmd.add_argument("current", type=Path, help="run folder or summary.json")
    compare_cmd.add_argument("baseline", type=Path, help="baseline folder or summary.json")
    compare_cmd.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="allowed change (0.2 = 20%%)")
    compare_cmd.add_argument("--min-delta-ms", type=float, default=DEFAULT_MIN_DELTA_MS)
    compare_cmd.add_argument("--min-requests", type=int, default=DEFAULT_MIN_REQUESTS)
    args = parser.parse_args(argv)
    if args.command == "summarize":
        print(format_table(summarize(args.run_dir)))
        print(f"summary: {args.run_dir / SUMMARY_FILE}")
        return 0
    current, baseline = read_summary(args.current), read_summary(args.baseline)
    results = compare(current, baseline, args.threshold, args.min_delta_ms, args.min_requests)
    print(format_comparison(results, args.threshold))
    for difference in profile_differences(current, baseline):
        print(f"warning: the runs used different profiles ({difference}); compare like with like")
    return 1 if any(item.regression for item in results) else 0


if __name__ == "__main__":
    sys.exit(main())
