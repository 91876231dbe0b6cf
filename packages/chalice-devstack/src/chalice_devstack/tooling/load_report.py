"""`devstack load`'s reports: summarise a locust run, print it, compare it against a baseline.

Pure functions over plain data (no locust import), so they run without the `load` extra. The
project's locust side dumps its raw stats (STATS_FILE) and its pipeline sections (PIPELINE_FILE)
as JSON; `summarize` turns them into summary.json. A pipeline section is what the project
follows beyond HTTP (orders to a terminal state, a queue's drain...), built with `section()`:
its values, the custom measurements whose latency it reports, its rates per second and how
`compare` judges each value (higher / lower is better, or must stay zero).

    devstack load summarize RUN_DIR
    devstack load compare RUN BASELINE [--threshold 0.2]
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from chalice_devstack.errors import CommandError

SCHEMA_VERSION = 2
# Request types a locustfile fires for its own measurements (events.request.fire), not HTTP calls.
CUSTOM_TYPES = frozenset({"PIPELINE", "QUEUE"})
STATS_FILE = "locust_stats.json"
PIPELINE_FILE = "pipeline.json"
META_FILE = "run.json"
SUMMARY_FILE = "summary.json"
DEFAULT_THRESHOLD = 0.20
# Latency changes smaller than this many ms are noise on a laptop, whatever the ratio.
DEFAULT_MIN_DELTA_MS = 5.0
# Endpoints with fewer requests than this in either run are too small a sample to judge.
DEFAULT_MIN_REQUESTS = 30

Direction = Literal["higher", "lower", "zero"]
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


def section(
    values: Mapping[str, Any],
    timings: Mapping[str, str] | None = None,
    rates: Mapping[str, str] | None = None,
    judge: Mapping[str, Direction] | None = None,
) -> dict[str, Any]:
    """A pipeline section for pipeline.json.

    timings: prefix -> custom measurement ('PIPELINE order to terminal'), reported as <prefix>_p50_ms,
    _p95_ms and _max_ms; rates: name -> a value's key, reported per second of the run; judge: key ->
    direction for `compare`.
    """
    return {
        "values": dict(values),
        "timings": dict(timings or {}),
        "rates": dict(rates or {}),
        "judge": dict(judge or {}),
    }


def section_summary(
    spec: Mapping[str, Any], endpoints: Mapping[str, Mapping[str, float]], duration: float
) -> dict[str, Any]:
    """A pipeline section's values with its timings' percentiles and its rates added."""
    values = dict(spec.get("values", {}))
    for prefix, measurement in spec.get("timings", {}).items():
        timing = endpoints.get(measurement, {})
        values.update({f"{prefix}_{key}": timing.get(key, 0.0) for key in ("p50_ms", "p95_ms", "max_ms")})
    for name, key in spec.get("rates", {}).items():
        values[name] = round(float(values.get(key, 0)) / duration, 2) if duration > 0 else 0.0
    return values


def build_summary(
    entries: Sequence[Mapping[str, Any]], pipeline: Mapping[str, Any], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The summary.json of a run: per-endpoint metrics, totals, the pipeline sections and how to judge them."""
    duration = float(meta.get("duration_s") or 0)
    endpoints = {endpoint_key(entry): entry_metrics(entry, duration) for entry in entries}
    sections = pipeline.get("sections", {})
    return {
        "schema_version": SCHEMA_VERSION,
        "run": dict(meta),
        "endpoints": dict(sorted(endpoints.items())),
        "total": total_metrics(entries, duration),
        "pipeline": {name: section_summary(spec, endpoints, duration) for name, spec in sections.items()},
        "judge": {
            f"{name}.{key}": way for name, spec in sections.items() for key, way in spec.get("judge", {}).items()
        },
    }


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
    for name, values in summary.get("pipeline", {}).items():
        lines.append(f"{name}: " + ", ".join(f"{key}={value}" for key, value in values.items()))
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
        direction: Direction = "higher" if metric == "rps" else "lower"
        results.append(
            Comparison(f"{name} {metric}", b, c, _ratio(c, b), worse(direction, c, b, threshold, min_delta_ms))
        )
    b, c = float(base.get("failure_ratio", 0)), float(cur.get("failure_ratio", 0))
    # Failure ratios are compared in absolute points: 0 -> 0.5% is a regression a ratio cannot show.
    results.append(Comparison(f"{name} failure_ratio", b, c, _ratio(c, b), c - b > 0.005))
    return results


def worse(direction: Direction, current: float, baseline: float, threshold: float, min_delta_ms: float) -> bool:
    """True when current is worse than baseline beyond the threshold, in that direction."""
    ratio = _ratio(current, baseline)
    if direction == "zero":
        return current > 0
    if direction == "higher":
        return ratio is not None and ratio < 1 - threshold
    return ratio is not None and ratio > 1 + threshold and current - baseline > min_delta_ms


def _compare_pipeline(
    current: Mapping[str, Any], baseline: Mapping[str, Any], threshold: float, min_delta_ms: float
) -> list[Comparison]:
    """Every judged pipeline value both runs have."""
    results = []
    for metric, direction in sorted({**baseline.get("judge", {}), **current.get("judge", {})}.items()):
        name, _, key = metric.partition(".")
        base, cur = baseline.get("pipeline", {}).get(name, {}), current.get("pipeline", {}).get(name, {})
        if key in base and key in cur:
            b, c = float(base[key]), float(cur[key])
            results.append(Comparison(metric, b, c, _ratio(c, b), worse(direction, c, b, threshold, min_delta_ms)))
    return results


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
    return results + _compare_pipeline(current, baseline, threshold, min_delta_ms)


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
    if not file.is_file():
        raise CommandError(f"{path}: no load run there (no {SUMMARY_FILE}); give a folder `devstack load run` wrote")
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
