"""The wall time of each suite of the template's `make test` and `make ci`: `make bench-tests`.

A benchmark, not a test: it prints numbers and asserts nothing about them. Each suite runs as the
Makefile runs it, in a process of its own, one after the other; under each, its slowest tests (set-up +
call, from pytest's --durations). `make test` is the sum of the first two suites, `make ci` of the first
and the third (every template test but the generated services' fast path, longest first).
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


def suites(workers: int, skip_ci: bool) -> list[Suite]:
    """make test's two suites, then make ci's template tests (make ci runs the first and the third)."""
    template = REPO_ROOT / ".venv" / "bin" / "python"
    pytest_args = ("-m", "pytest", "-n", str(workers), "--durations=0", f"--durations-min={SLOW_SECONDS}")
    found = [
        Suite("chalice-devstack tests (make devstack-test)", DEVSTACK_DIR / ".venv" / "bin" / "python",
              pytest_args, DEVSTACK_DIR),
        Suite("template tests of make test (-m 'not ci')", template,
              (*pytest_args, "--dist", "worksteal", "-m", "not ci"), REPO_ROOT),
    ]
    if not skip_ci:
        found.append(Suite("template tests of make ci (-m 'not fast_path')", template,
                           (*pytest_args, "--dist", "load", "--maxschedchunk", "1", "-m", "not fast_path"), REPO_ROOT))
    return found


def slowest_tests(output: str) -> list[tuple[float, str]]:
    """The slowest tests of a pytest run: set-up, call and teardown added up per test."""
    totals: dict[str, float] = defaultdict(float)
    for seconds, test in DURATION.findall(output):
        totals[test] += float(seconds)
    return sorted(((seconds, test) for test, seconds in totals.items()), reverse=True)[:SLOWEST_SHOWN]


def children_cpu_seconds() -> float:
    """User + system CPU time of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(suite: Suite, env: dict[str, str]) -> Timing:
    """Run one suite and time it (wall and CPU)."""
    load, cpu_before, start = os.getloadavg()[0], children_cpu_seconds(), time.perf_counter()
    result = subprocess.run([str(suite.python), *suite.args], cwd=suite.cwd, env=env,
                            capture_output=True, text=True, check=False)
    seconds, cpu_seconds = time.perf_counter() - start, children_cpu_seconds() - cpu_before
    summary = SUMMARY.findall(result.stdout)
    ok = result.returncode == 0
    note = summary[-1] if summary else (result.stdout + result.stderr).strip()[-300:]
    return Timing(seconds, cpu_seconds, load, ok, note, slowest_tests(result.stdout), NOT_PASSED.findall(result.stdout))


def report(suite: Suite, timing: Timing) -> None:
    """Print a suite's row and its slowest tests."""
    figures = f"{timing.seconds:>7.1f} s {timing.cpu_seconds:>7.1f} s CPU  load {timing.load:>4.1f}"
    print(f"{suite.label:<46} {figures}   {'' if timing.ok else 'FAILED: '}{timing.summary}")
    for seconds, test in timing.slowest:
        print(f"    {seconds:>7.1f} s  {test.removeprefix('tests/')}")
    for line in timing.not_passed:
        print(f"    {line}")
    sys.stdout.flush()


def total(label: str, timings: list[Timing]) -> str:
    """A sum row: the suites' wall and CPU times added up."""
    wall, cpu = sum(t.seconds for t in timings), sum(t.cpu_seconds for t in timings)
    return f"{label:<46} {wall:>7.1f} s {cpu:>7.1f} s CPU"


def bench(workers: int, skip_ci: bool, env: dict[str, str]) -> bool:
    """Run and print every suite, then make test's and make ci's totals; True when all passed."""
    timings = []
    for suite in suites(workers, skip_ci):
        timing = run(suite, env)
        report(suite, timing)
        timings.append(timing)
    print(total("make test (devstack + template tests)", timings[:2]))
    if not skip_ci:
        print(total("make ci (devstack + make ci's template tests)", [timings[0], timings[2]]))
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
