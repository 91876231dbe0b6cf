"""locust_support: what a locust run leaves in LOAD_REPORT_DIR, and that `devstack load summarize` reads it.

Each scenario runs in a child interpreter: importing locust patches the interpreter with gevent,
which the rest of this test session must not inherit.
"""

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from chalice_devstack.tooling import load_report, load_run

# A locust process as `devstack load run` starts one, without users: its init and quit events
# are fired by hand around the measurements and sections a locustfile would record.
RUN = """
import time
from locust import events
from locust.env import Environment
from chalice_devstack.tooling import locust_support as support
from chalice_devstack.tooling.load_report import section

environment = Environment(events=events)
environment.create_local_runner()
events.init.fire(environment=environment, runner=environment.runner, web_ui=None)
{body}
events.quit.fire(exit_code=0)
"""


def run_locust_side(report_dir: Path, body: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run `body` between locust's init and quit events, with the LOAD_* variables devstack sets (and `extra`)."""
    script = RUN.format(body=textwrap.dedent(body))
    env = {**os.environ, "LOAD_REPORT_DIR": str(report_dir), "LOAD_RUN_ID": "run-7", "LOAD_POLL_INTERVAL_S": "0.01"}
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_quit_writes_stats_and_the_registered_sections(tmp_path: Path) -> None:
    """Given two jobs counted by a Tracker (one done, one given up), one timed with fire, and a registered section,
    when locust quits,
    then STATS_FILE holds the measurement, PIPELINE_FILE the run id and the section's final counters,
    and summarize turns them into the section's timing, rate and judge."""
    body = """
        jobs = support.Tracker()
        for job in ("a", "b"):
            jobs.start(job, time.perf_counter())
        jobs.finish("a", "DONE")
        jobs.give_up("b")
        support.fire("PIPELINE", "job to done", time.perf_counter() - 0.25)
        support.register_section("jobs", lambda: section(
            jobs.as_dict(), timings={"time_to_done": "PIPELINE job to done"}, rates={"jobs_per_s": "terminal"},
            judge={"lost": "zero"}))
    """
    result = run_locust_side(tmp_path, body)
    assert result.returncode == 0, result.stderr

    stats = json.loads((tmp_path / load_report.STATS_FILE).read_text())
    assert [(entry["method"], entry["name"], entry["num_requests"]) for entry in stats] == [
        ("PIPELINE", "job to done", 1)
    ]
    pipeline = json.loads((tmp_path / load_report.PIPELINE_FILE).read_text())
    assert pipeline["run_id"] == "run-7"
    assert list(pipeline["sections"]) == ["jobs"]
    assert pipeline["sections"]["jobs"]["values"] == {"started": 2, "terminal": 1, "lost": 1, "outcomes": {"DONE": 1}}

    (tmp_path / load_report.META_FILE).write_text(json.dumps({"duration_s": 2}))
    summary = load_report.summarize(tmp_path)
    jobs = summary["pipeline"]["jobs"]
    assert 240 <= jobs["time_to_done_p50_ms"] <= 400
    assert jobs["jobs_per_s"] == 0.5
    assert summary["judge"] == {"jobs.lost": "zero"}
    assert summary["total"]["requests"] == 0


def test_poll_is_bounded_and_returns_the_first_answer(tmp_path: Path) -> None:
    """Given a fetch that answers on its third call and one that never answers,
    when polled with a short timeout,
    then the first gives its answer after three calls and the second gives None within about the timeout."""
    body = """
        calls = []
        answer = support.poll(lambda: calls.append(1) or (len(calls) if len(calls) == 3 else None), timeout_s=5)
        started = time.monotonic()
        nothing = support.poll(lambda: None, timeout_s=0.2)
        print(answer, nothing, round(time.monotonic() - started, 1))
    """
    result = run_locust_side(tmp_path, body)
    assert result.returncode == 0, result.stderr
    answer, nothing, waited = result.stdout.split()
    assert (answer, nothing) == ("3", "None")
    assert 0.2 <= float(waited) < 1.0


def test_end_of_run_work_must_finish_before_the_driver_gives_up(tmp_path: Path) -> None:
    """Given a 15 s run and a run without --run-time,
    when asked when end-of-run work must be done,
    then it is the driver's timeout (15 s + stop timeout + sweep margin) less the time to write files, else never."""
    body = """
        from argparse import Namespace
        timed = support.finish_by(Environment(parsed_options=Namespace(run_time=15))) - support.STARTED
        print(round(timed, 1), support.finish_by(Environment(parsed_options=Namespace(run_time=None))))
    """
    result = run_locust_side(tmp_path, body)
    assert result.returncode == 0, result.stderr
    budget = 15 + load_run.STOP_TIMEOUT_S + load_run.SWEEP_MARGIN_S - 10  # WRITE_MARGIN_S
    assert result.stdout.split() == [str(float(budget)), "inf"]


def test_the_drivers_deadline_bounds_end_of_run_work_whatever_locust_took_to_start(tmp_path: Path) -> None:
    """Given the deadline `devstack load run` passes (LOAD_FINISH_BY, 100 s from now),
    then end-of-run work must be done by it, not by a time counted from when locust imported this module."""
    body = """
        from argparse import Namespace
        left = support.finish_by(Environment(parsed_options=Namespace(run_time=15))) - time.monotonic()
        print(round(left - (support.FINISH_BY_EPOCH - time.time())))
    """
    result = run_locust_side(tmp_path, body, LOAD_FINISH_BY=str(time.time() + 100))
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == 0  # the deadline itself, however long locust took to import
