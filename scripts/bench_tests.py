"""The wall time of each suite of the template's `make test` and `make ci`: `make bench-tests`.

A benchmark, not a test: it prints numbers and asserts nothing about them. Each suite runs as the
Makefile runs it, in a process of its own: make test's two suites side by side (chalice-devstack's
tests but the `slow` ones, and the template tests not marked `ci`), then make ci's two one after the
other (all of chalice-devstack's tests, then every template test but the generated services' fast
path, longest first). Under each, its slowest tests (set-up + call, from pytest's --durations).
Each row also gives the CPU time of the suite's processes and the load average as it started: on a
shared machine the wall time says more about the neighbours than about the tests.
--cold points the template tests at an empty cache folder (TEMPLATE_TEST_CACHE), so the generated
service's venv and mypy caches are built in the run, as on a fresh clone (uv's download cache stays warm).

    python -m scripts.bench_tests [--workers 2] [--cold] [--skip-ci]
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO_ROOT = Path(__file__).resolve().parent.parent
DEVSTACK_DIR = REPO_ROOT / "packages" / "chalice-devstack"
# pytest's summary line, framed by "=" or not (-q), e.g. "150 passed, 7 deselected in 93.21s (0:01:33)".
SUMMARY = re.compile(r"^=*\s*(\d+ (?:passed|failed|error|skipped|deselected).*?) in [\d.]+s", re.MULTILINE)
# The short test summary's lines for what did not pass (-ra), e.g. "FAILED tests/test_x.py::test_y - ...".
NOT_PASSED = re.compile(r"^(?:FAILED|ERROR) \S+", re.MULTILINE)
# A --durations line, e.g. "128.31s call     tests/test_generated_suite.py::test_generated_tests_pass[all-on]".
DURATION = re.compile(r"^([\d.]+)s (?:setup|call|teardown)\s+(\S+)$", re.MULTILINE)
SLOWEST_SHOWN = 6
SLOW_SECONDS = 3.0


@dataclass(frozen=True)
class Suite:
    """One timed command: a label, the pytest arguments and the folder it runs in."""

    label: str
    python: Path
    args: tuple[str, ...]
    cwd: Path


@dataclass(frozen=True)
class Timing:
    """How long a suite took, whether it passed, pytest's summary and its slowest tests."""

    seconds: float
    cpu_seconds: float
    load: float
    ok: bool
    summary: str
    slowest: list[tuple[float, str]]
    not_passed: list[str]


def pytest_args(workers: int, dist: str, *more: str) -> tuple[str, ...]:
    """pytest on xdist workers with the given distribution, listing every test slower than SLOW_SECONDS."""
    return ("-m", "pytest", "-n", str(workers), "--dist", dist, "--durations=0", f"--durations-min={SLOW_SECONDS}",
            *more)


def suites(workers: int) -> dict[str, Suite]:
    """Each suite as the Makefile runs it, by Makefile target."""
    template, devstack = REPO_ROOT / ".venv" / "bin" / "python", DEVSTACK_DIR / ".venv" / "bin" / "python"
    return {
        "devstack-test": Suite("chalice-devstack tests (make devstack-test)", devstack,
                               pytest_args(workers, "loadfile", "-m", "not slow"), DEVSTACK_DIR),
        "template-test": Suite("template tests of make test (-m 'not ci')", template,
                               pytest_args(workers, "worksteal", "-m", "not ci"), REPO_ROOT),
        "devstack-test-all": Suite("chalice-devstack tests, all (make devstack-test-all)", devstack,
                                   pytest_args(workers, "loadfile"), DEVSTACK_DIR),
        "template-ci": Suite("template tests of make ci (-m 'not fast_path')", template,
                             pytest_args(workers, "load", "--maxschedchunk", "1", "-m", "not fast_path"), REPO_ROOT),
    }


def slowest_tests(output: str) -> list[tuple[float, str]]:
    """The slowest tests of a pytest run: set-up, call and teardown added up per test."""
    totals: dict[str, float] = defaultdict(float)
    for seconds, test in DURATION.findall(output):
        totals[test] += float(seconds)
    return sorted(((seconds, test) for test, seconds in totals.items()), reverse=True)[:SLOWEST_SHOWN]


@dataclass
class Running:
    """A suite's process as it runs: its output goes to a file (no pipe to drain while the others run)."""

    suite: Suite
    process: "subprocess.Popen[bytes]"
    output: IO[bytes]
    load: float
    start: float


def start(suite: Suite, env: dict[str, str]) -> Running:
    """Start one suite in a process of its own."""
    output = tempfile.TemporaryFile()  # noqa: SIM115 (finish() closes it once the suite has ended)
    load, began = os.getloadavg()[0], time.perf_counter()
    command = [str(suite.python), *suite.args]
    process = subprocess.Popen(command, cwd=suite.cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    return Running(suite, process, output, load, began)


def finish(running: Running, status: int, usage: resource.struct_rusage) -> Timing:
    """A suite that has ended: its wall time and the CPU time of its process tree (wait4's usage of that child)."""
    seconds = time.perf_counter() - running.start
    running.process.returncode = os.waitstatus_to_exitcode(status)
    running.output.seek(0)
    output = running.output.read().decode(errors="replace")
    running.output.close()
    summary = SUMMARY.findall(output)
    note = summary[-1] if summary else output.strip()[-300:]
    cpu_seconds = usage.ru_utime + usage.ru_stime
    ok = running.process.returncode == 0
    return Timing(seconds, cpu_seconds, running.load, ok, note, slowest_tests(output), NOT_PASSED.findall(output))


def run_together(found: list[Suite], env: dict[str, str]) -> tuple[float, list[Timing]]:
    """Run suites side by side, as make -j does; the wall time until the last ends, and each one's timing."""
    began = time.perf_counter()
    running = {run.process.pid: run for run in (start(suite, env) for suite in found)}
    timings: dict[int, Timing] = {}
    while len(timings) < len(running):
        pid, status, usage = os.wait4(-1, 0)  # whichever suite ends first, so each wall time is its own
        if pid in running:
            timings[pid] = finish(running[pid], status, usage)
    return time.perf_counter() - began, [timings[pid] for pid in running]


def report(suite: Suite, timing: Timing) -> None:
    """Print a suite's row and its slowest tests."""
    figures = f"{timing.seconds:>7.1f} s {timing.cpu_seconds:>7.1f} s CPU  load {timing.load:>4.1f}"
    print(f"{suite.label:<58} {figures}   {'' if timing.ok else 'FAILED: '}{timing.summary}")
    for seconds, test in timing.slowest:
        print(f"    {seconds:>7.1f} s  {test.removeprefix('tests/')}")
    for line in timing.not_passed:
        print(f"    {line}")
    sys.stdout.flush()


def total(label: str, wall: float, timings: list[Timing]) -> str:
    """A sum row: the wall time given and the suites' CPU times added up."""
    return f"{label:<58} {wall:>7.1f} s {sum(t.cpu_seconds for t in timings):>7.1f} s CPU"


def bench(workers: int, skip_ci: bool, env: dict[str, str]) -> bool:
    """Run and print make test's suites (side by side), then make ci's (one after the other); True when all passed."""
    found = suites(workers)
    make_test = [found["devstack-test"], found["template-test"]]
    wall, timings = run_together(make_test, env)
    for suite, timing in zip(make_test, timings, strict=True):
        report(suite, timing)
    print(total("make test (both suites side by side)", wall, timings))
    if not skip_ci:
        make_ci = [found["devstack-test-all"], found["template-ci"]]
        ci_timings = [run_together([suite], env)[1][0] for suite in make_ci]
        for suite, timing in zip(make_ci, ci_timings, strict=True):
            report(suite, timing)
        print(total("make ci (devstack-test-all, then make ci's template tests)",
                    sum(t.seconds for t in ci_timings), ci_timings))
        timings += ci_timings
    return all(timing.ok for timing in timings)


def main() -> None:
    """Time the suites with the template's cache, or with an empty one (--cold)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers, as make test (default 2)")
    parser.add_argument("--cold", action="store_true", help="build the service venv and caches in an empty folder")
    parser.add_argument("--skip-ci", action="store_true", help="time make test's suites only")
    args = parser.parse_args()
    env = {**os.environ}
    cache = "an empty cache (cold)" if args.cold else "the template's .cache/ (warm once built for these sources)"
    print(f"{os.cpu_count()} cores, {args.workers} workers, {cache}", flush=True)
    with tempfile.TemporaryDirectory(prefix="template-test-cache-") as cold_cache:
        if args.cold:
            env["TEMPLATE_TEST_CACHE"] = cold_cache
        ok = bench(args.workers, args.skip_ci, env)
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
