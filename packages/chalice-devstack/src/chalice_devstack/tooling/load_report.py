"""`devstack load`'s reports: summarise a locust run, print it, compare it against a baseline.

Pure functions over plain data (no locust import), so they run without the `load` extra. The
project's locust side dumps its raw stats (STATS_FILE) and its pipeline sections (PIPELINE_FILE)
as JSON; `summarize` turns them into summary.json. A pipeline section is what the project
follows beyond HTTP (orders to a terminal state, a queue's drain...), built with `section()`:
its values, the custom measurements whose latency it reports, its rates per second and how
`compare` judges each value (higher / lower is better, or must stay zero).

    devstack load summarize RUN_DIR
    devstack load compare RUN BASELINE [--threshold 0.2]

Noise: a run is a sample, so two runs of the same code differ. Each summary carries every judged
metric's noise, derived from the run itself (`noise`): a percentile's 95% band from its samples'
order statistics, a rate's and a failure ratio's from their counts. `compare` calls a change a
regression only when it is beyond the threshold AND beyond the two runs' combined noise.
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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
Z_95 = 1.96  # a 95% band
PERCENTILES = {"p50_ms": 0.50, "p95_ms": 0.95, "p99_ms": 0.99}

Direction = Literal["higher", "lower", "zero", "points"]
FAILURE_POINTS = 0.005  # a failure ratio up by more than half a point is worse
Histogram = Mapping[Any, int]


def _sorted_counts(histogram: Histogram) -> tuple[list[tuple[float, int]], int]:
    """The histogram's (time, count) buckets in time order, and the number of samples."""
    counts = sorted((float(time), count) for time, count in histogram.items() if count > 0)
    return counts, sum(count for _, count in counts)


def _at_rank(counts: list[tuple[float, int]], rank: int) -> float:
    """The time of the rank-th smallest sample (1-based)."""
    seen = 0
    for time, count in counts:
        seen += count
        if seen >= rank:
            return time
    return counts[-1][0]


def percentile(histogram: Histogram, fraction: float) -> float:
    """The smallest response time (ms) at or below which `fraction` of the samples fall; 0 if none."""
    counts, total = _sorted_counts(histogram)
    return _at_rank(counts, max(1, math.ceil(fraction * total))) if total else 0.0


def percentile_noise(histogram: Histogram, fraction: float) -> float | None:
    """Half the width of the 95% band of that percentile: the samples' order statistics around its rank.

    None when the band reaches past the samples (a p99 of 150 requests rests on one or two): too few to judge.
    """
    counts, total = _sorted_counts(histogram)
    spread = Z_95 * math.sqrt(total * fraction * (1 - fraction))
    low_rank, high_rank = math.floor(fraction * total - spread), math.ceil(fraction * total + spread)
    if low_rank < 1 or high_rank > total:
        return None
    return (_at_rank(counts, high_rank) - _at_rank(counts, low_rank)) / 2


def entry_noise(entry: Mapping[str, Any], duration_s: float) -> dict[str, float | None]:
    """The noise of one stats entry's metrics: percentiles from their samples, rps and failure ratio from counts."""
    requests, failures = int(entry.get("num_requests", 0)), int(entry.get("num_failures", 0))
    histogram: Histogram = entry.get("response_times", {})
    ratio = failures / requests if requests else 0.0
    noise: dict[str, float | None] = {
        name: percentile_noise(histogram, fraction) for name, fraction in PERCENTILES.items()
    }
    noise["rps"] = round(Z_95 * math.sqrt(requests) / duration_s, 3) if duration_s > 0 else 0.0
    noise["failure_ratio"] = round(Z_95 * math.sqrt(ratio * (1 - ratio) / requests), 4) if requests else 0.0
    return noise


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
        **{name: percentile(histogram, fraction) for name, fraction in PERCENTILES.items()},
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


def section_noise(
    spec: Mapping[str, Any], noise: Mapping[str, Mapping[str, float | None]], values: Mapping[str, Any], duration: float
) -> dict[str, float | None]:
    """The noise of a pipeline section's timings (their measurement's) and rates (the counted value's)."""
    found: dict[str, float | None] = {
        f"{prefix}_{key}": noise.get(measurement, {}).get(key, 0.0)
        for prefix, measurement in spec.get("timings", {}).items()
        for key in ("p50_ms", "p95_ms")
    }
    for name, key in spec.get("rates", {}).items():
        found[name] = round(Z_95 * math.sqrt(float(values.get(key, 0))) / duration, 3) if duration > 0 else 0.0
    return found


def build_summary(
    entries: Sequence[Mapping[str, Any]], pipeline: Mapping[str, Any], meta: Mapping[str, Any]
) -> dict[str, Any]:
    """The summary.json of a run: per-endpoint metrics, totals, the pipeline sections and how to judge them."""
    duration = float(meta.get("duration_s") or 0)
    endpoints = {endpoint_key(entry): entry_metrics(entry, duration) for entry in entries}
    noise = {endpoint_key(entry): entry_noise(entry, duration) for entry in entries}
    sections = pipeline.get("sections", {})
    summaries = {name: section_summary(spec, endpoints, duration) for name, spec in sections.items()}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": dict(meta),
        "endpoints": dict(sorted(endpoints.items())),
        "total": total_metrics(entries, duration),
        "pipeline": summaries,
        "noise": {
            "endpoints": dict(sorted(noise.items())),
            "pipeline": {
                name: section_noise(spec, noise, summaries[name], duration) for name, spec in sections.items()
            },
        },
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


@dataclass(frozen=True)
class Judge:
    """How a comparison judges: the allowed ratio, the smallest latency change that counts, the runs' noise."""

    threshold: float = DEFAULT_THRESHOLD
    min_delta_ms: float = DEFAULT_MIN_DELTA_MS
    current_noise: Mapping[str, Any] = field(default_factory=dict)
    baseline_noise: Mapping[str, Any] = field(default_factory=dict)

    def noise(self, group: str, name: str, metric: str) -> float:
        """The two runs' combined noise of one metric (95% band of their difference); inf when too few samples."""
        both = [
            _or_inf(n.get(group, {}).get(name, {}).get(metric, 0.0)) for n in (self.current_noise, self.baseline_noise)
        ]
        return math.hypot(*both)

    def judge(self, label: str, direction: Direction, current: float, baseline: float, noise: float) -> Comparison:
        """One metric's comparison: a regression only beyond the threshold and beyond the noise."""
        beyond = worse(direction, current, baseline, self.threshold, self.min_delta_ms)
        # A value that must stay zero is judged on its own: any count is a regression, noise or not.
        regression = beyond and (direction == "zero" or abs(current - baseline) > noise)
        note = (
            "" if not beyond or regression else "too few samples" if math.isinf(noise) else f"within noise ±{noise:.3g}"
        )
        return Comparison(label, baseline, current, _ratio(current, baseline), regression, note)


def _or_inf(noise: float | None) -> float:
    """A stored noise figure; None (too few samples to judge) as infinite noise."""
    return math.inf if noise is None else float(noise)


def _compare_endpoint(name: str, base: Mapping[str, float], cur: Mapping[str, float], judge: Judge) -> list[Comparison]:
    results = []
    for metric in ("rps", "p50_ms", "p95_ms", "p99_ms"):
        b, c = float(base.get(metric, 0)), float(cur.get(metric, 0))
        direction: Direction = "higher" if metric == "rps" else "lower"
        results.append(judge.judge(f"{name} {metric}", direction, c, b, judge.noise("endpoints", name, metric)))
    b, c = float(base.get("failure_ratio", 0)), float(cur.get("failure_ratio", 0))
    results.append(
        judge.judge(f"{name} failure_ratio", "points", c, b, judge.noise("endpoints", name, "failure_ratio"))
    )
    return results


def worse(direction: Direction, current: float, baseline: float, threshold: float, min_delta_ms: float) -> bool:
    """True when current is worse than baseline beyond the threshold, in that direction."""
    ratio = _ratio(current, baseline)
    if direction == "zero":
        return current > 0
    if direction == "points":  # a ratio of 0 -> 0.5% failures cannot show: compared in absolute points
        return current - baseline > FAILURE_POINTS
    if direction == "higher":
        return ratio is not None and ratio < 1 - threshold
    return ratio is not None and ratio > 1 + threshold and current - baseline > min_delta_ms


def _compare_pipeline(current: Mapping[str, Any], baseline: Mapping[str, Any], judge: Judge) -> list[Comparison]:
    """Every judged pipeline value both runs have."""
    results = []
    for metric, direction in sorted({**baseline.get("judge", {}), **current.get("judge", {})}.items()):
        name, _, key = metric.partition(".")
        base, cur = baseline.get("pipeline", {}).get(name, {}), current.get("pipeline", {}).get(name, {})
        if key in base and key in cur:
            noise = 0.0 if direction == "zero" else judge.noise("pipeline", name, key)
            results.append(judge.judge(metric, direction, float(cur[key]), float(base[key]), noise))
    return results


def compare(
    current: Mapping[str, Any],
    baseline: Mapping[str, Any],
    threshold: float = DEFAULT_THRESHOLD,
    min_delta_ms: float = DEFAULT_MIN_DELTA_MS,
    min_requests: int = DEFAULT_MIN_REQUESTS,
) -> list[Comparison]:
    """Every metric both runs have, flagged where the current run is worse beyond the threshold and the noise."""
    judge = Judge(threshold, min_delta_ms, current.get("noise", {}), baseline.get("noise", {}))
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
        results.extend(_compare_endpoint(name, base, cur, judge))
    return results + _compare_pipeline(current, baseline, judge)


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
