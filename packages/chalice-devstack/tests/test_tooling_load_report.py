"""Load-test report: percentiles, summary.json, the printed table and the baseline comparison."""

import collections
import json
import math
import random
from pathlib import Path
from typing import Any

import pytest

from chalice_devstack.cli import main
from chalice_devstack.tooling import load_report as report
from chalice_devstack.tooling.load_report import build_summary, compare, section


def entry(method: str, name: str, times: dict[int, int], failures: int = 0, seconds: float = 10.0) -> dict[str, Any]:
    """A raw locust stats entry as loadtests/common.py dumps it."""
    requests = sum(times.values())
    return {
        "method": method,
        "name": name,
        "num_requests": requests,
        "num_failures": failures,
        "total_response_time": sum(time * count for time, count in times.items()),
        "max_response_time": max(times) if times else 0,
        "start_time": 1000.0,
        "last_request_timestamp": 1000.0 + seconds,
        "response_times": {str(time): count for time, count in times.items()},
    }


def test_percentile_picks_the_rank_bucket() -> None:
    histogram = {"1": 50, "2": 45, "30": 4, "100": 1}
    assert report.percentile(histogram, 0.50) == 1
    assert report.percentile(histogram, 0.95) == 2
    assert report.percentile(histogram, 0.99) == 30
    assert report.percentile(histogram, 1.0) == 100


def test_percentile_of_nothing_is_zero() -> None:
    assert report.percentile({}, 0.95) == 0


def test_entry_metrics() -> None:
    # Given 100 requests over 10 s with 5 failures
    metrics = report.entry_metrics(entry("GET", "/users/{id}", {2: 90, 10: 10}, failures=5))
    # Then rps, failure ratio, mean and percentiles follow from them
    assert metrics["rps"] == 10.0
    assert metrics["failure_ratio"] == 0.05
    assert metrics["avg_ms"] == 2.8
    assert (metrics["p50_ms"], metrics["p95_ms"], metrics["p99_ms"]) == (2, 10, 10)


def test_rps_is_over_the_run_when_its_duration_is_known() -> None:
    # Given 2 requests made in quick succession early in a 20 s run
    early = entry("POST", "/users", {300: 2}, seconds=0.01)
    # Then their rate is 2 per 20 s, not 2 per 10 ms
    assert report.entry_metrics(early, duration_s=20)["rps"] == 0.1


def test_summary_separates_http_from_pipeline_measurements() -> None:
    """Given two endpoints, a custom timing and a pipeline section, when summarised, then each lands apart."""
    entries = [
        entry("GET", "/items/{id}", {1: 100}),
        entry("POST", "/jobs", {5: 50}),
        entry("PIPELINE", "job to done", {200: 45, 900: 5}),
    ]
    jobs = report.section(
        {"started": 50, "done": 50, "lost": 0},
        timings={"time_to_done": "PIPELINE job to done"},
        rates={"jobs_per_s": "done"},
        judge={"jobs_per_s": "higher", "lost": "zero"},
    )
    summary = report.build_summary(entries, {"sections": {"jobs": jobs}}, {"duration_s": 10})
    assert summary["total"]["requests"] == 150
    assert summary["total"]["p50_ms"] == 1
    assert summary["pipeline"]["jobs"] == {
        "started": 50,
        "done": 50,
        "lost": 0,
        "time_to_done_p50_ms": 200,
        "time_to_done_p95_ms": 900,
        "time_to_done_max_ms": 900,
        "jobs_per_s": 5.0,
    }
    assert summary["judge"] == {"jobs.jobs_per_s": "higher", "jobs.lost": "zero"}


def test_summarize_writes_summary_and_table(tmp_path: Path) -> None:
    # Given the files a locust run leaves
    (tmp_path / report.STATS_FILE).write_text(json.dumps([entry("GET", "/users/{id}", {3: 10})]))
    (tmp_path / report.META_FILE).write_text(json.dumps({"duration_s": 10}))
    # When summarised
    summary = report.summarize(tmp_path)
    # Then summary.json is written and the table names the endpoint
    assert report.read_summary(tmp_path) == summary
    table = report.format_table(summary)
    assert "GET /users/{id}" in table and "TOTAL (HTTP)" in table


def summary_with(p95: float, rps: float, failures: int = 0, lost: int = 0) -> dict[str, Any]:
    """A summary with one endpoint of 1000 requests and a judged pipeline section."""
    metrics = {
        "requests": 1000,
        "failures": failures,
        "failure_ratio": failures / 1000,
        "rps": rps,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "p99_ms": p95 * 2,
    }
    jobs = {"jobs_per_s": 5.0, "time_to_done_p95_ms": 800.0, "lost": lost}
    judge = {"jobs.jobs_per_s": "higher", "jobs.time_to_done_p95_ms": "lower", "jobs.lost": "zero"}
    return {"endpoints": {"POST /jobs": metrics}, "pipeline": {"jobs": jobs}, "judge": judge}


def regressions(current: dict[str, Any], baseline: dict[str, Any]) -> list[str]:
    return [item.metric for item in report.compare(current, baseline, threshold=0.2) if item.regression]


def test_same_run_has_no_regression() -> None:
    assert regressions(summary_with(100, 50), summary_with(100, 50)) == []


def test_slower_and_lower_throughput_are_regressions() -> None:
    found = regressions(summary_with(130, 35), summary_with(100, 50))
    assert found == ["POST /jobs rps", "POST /jobs p50_ms", "POST /jobs p95_ms", "POST /jobs p99_ms"]


def test_changes_within_threshold_or_below_min_delta_pass() -> None:
    # 15% slower is within 20%; 2 ms -> 4 ms doubles but is under the 5 ms noise floor
    assert regressions(summary_with(115, 45), summary_with(100, 50)) == []
    assert regressions(summary_with(4, 50), summary_with(2, 50)) == []


def test_new_failures_and_a_nonzero_zero_judged_value_are_regressions() -> None:
    found = regressions(summary_with(100, 50, failures=10, lost=1), summary_with(100, 50))
    assert found == ["POST /jobs failure_ratio", "jobs.lost"]


def test_small_samples_and_unmatched_endpoints_are_reported_not_judged() -> None:
    baseline = summary_with(100, 50)
    current = summary_with(500, 5)
    current["endpoints"]["POST /jobs"]["requests"] = 3
    current["endpoints"]["GET /health"] = current["endpoints"]["POST /jobs"]
    results = {item.metric: item for item in report.compare(current, baseline)}
    assert results["POST /jobs"].note == "too few requests"
    assert results["GET /health"].note == "only in the current run"
    assert not any(item.regression for item in results.values() if item.metric.startswith(("POST", "GET")))


def test_profile_differences_name_what_changed() -> None:
    base = {"run": {"users": 10, "classes": "all", "run_time": "60s"}}
    assert report.profile_differences(base, base) == []
    assert report.profile_differences({"run": {**base["run"], "users": 20}}, base) == ["users: baseline 10, current 20"]


@pytest.mark.parametrize(("current", "code"), [(summary_with(100, 50), 0), (summary_with(300, 50), 1)])
def test_compare_command_exits_1_on_regression(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], current: dict[str, Any], code: int
) -> None:
    """Given a baseline and a run, when `devstack load compare` runs, then it exits 1 exactly on a regression."""
    (tmp_path / "base.json").write_text(json.dumps(summary_with(100, 50)))
    (tmp_path / "run.json").write_text(json.dumps(current))
    with pytest.raises(SystemExit) as exit_info:
        main(["load", "compare", str(tmp_path / "run.json"), str(tmp_path / "base.json")])
    assert exit_info.value.code == code
    assert ("REGRESSION" in capsys.readouterr().out) == bool(code)


def recorded_run(seed: int, slower: float = 1.0) -> dict[str, Any]:
    """A 60 s run's summary as locust records it: three endpoints (~150 requests each) and a queue drain (8 samples).

    Latencies come from one seeded distribution, so two seeds are two runs of the same code on a quiet
    machine; `slower` scales one endpoint's latencies, as a real regression would.
    """
    rng = random.Random(seed)

    def entry(method: str, name: str, count: int, median_ms: float) -> dict[str, Any]:
        times = [round(rng.lognormvariate(math.log(median_ms), 0.6)) for _ in range(count)]
        return {
            "method": method,
            "name": name,
            "num_requests": count,
            "num_failures": 0,
            "total_response_time": sum(times),
            "max_response_time": max(times),
            "response_times": dict(collections.Counter(times)),
        }

    entries = [
        entry("GET", "/users/{id}", 150 + rng.randint(-10, 10), 12 * slower),
        entry("POST", "/orders", 150 + rng.randint(-10, 10), 25),
        entry("GET", "/orders/{id}", 150 + rng.randint(-10, 10), 9),
        entry("QUEUE", "drain", 8, 900),
    ]
    pipeline = {"sections": {"queue": section({"drained": 8}, timings={"drain": "QUEUE drain"},
                                              judge={"drain_p50_ms": "lower"})}}  # fmt: skip
    return build_summary(entries, pipeline, {"duration_s": 60})


def test_two_runs_that_differ_only_by_noise_show_no_regression_and_a_slower_endpoint_does() -> None:
    """Given runs of one distribution (seeds 1..6), when each is compared with the next, then nothing is a
    regression though the threshold alone flags some; a run 1.6x slower on one endpoint is one, with its p50."""
    pairs = [(recorded_run(seed + 1), recorded_run(seed)) for seed in range(1, 6)]

    noisy = [
        item for current, baseline in pairs for item in compare(current, baseline) if item.note.startswith("within")
    ]
    regressions = [item for current, baseline in pairs for item in compare(current, baseline) if item.regression]
    slower = [item.metric for item in compare(recorded_run(9, slower=1.6), recorded_run(8)) if item.regression]

    assert regressions == []
    assert noisy, "the threshold alone would have flagged these pairs: the noise floor is what clears them"
    assert "GET /users/{id} p50_ms" in slower
    leftover = recorded_run(2)
    leftover["pipeline"]["queue"]["unexpected"], leftover["judge"]["queue.unexpected"] = 1, "zero"
    assert [item.metric for item in compare(leftover, leftover) if item.regression] == ["queue.unexpected"]
    assert all(metric.startswith("GET /users/{id}") for metric in slower)
