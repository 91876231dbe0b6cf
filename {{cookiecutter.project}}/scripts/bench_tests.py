"""The wall time of each test suite, run as the Makefile runs it: `make bench-tests`.

A benchmark, not a test: it prints numbers and asserts nothing about them. Each row is one make
command in a process of its own; `make test` is timed as a whole (it runs e2e and the template check
side by side), `make test-all` is the sum of the commands it runs one after the other. Beside the wall
time: the CPU time of every process the command ran, and the load average as it started, because on
a busy machine the wall time says more about the neighbours than about the tests.

    python -m scripts.bench_tests [--skip-slow] [--venv .venv]
"""

import argparse
import os
import re
import resource
import subprocess
import time
from dataclasses import dataclass

# pytest's summary line, e.g. "12 passed, 2 deselected in 3.21s" (the Makefile never stacks -q: it stays).
SUMMARY = re.compile(r"^=*\s*(\d+ (passed|failed|error|skipped|deselected).*) in [\d.]+s", re.MULTILINE)


@dataclass(frozen=True)
class Suite:
    """One timed command: a label and the make arguments that run it."""

    label: str
    make_args: tuple[str, ...]


FAST = (
    Suite("unit", ("unit",)),
    Suite("integration", ("integration",)),
    Suite("e2e, not slow", ("e2e", "E2E_MARK=not slow")),
    Suite("check-template", ("check-template",)),
)
FULL = (
    Suite("e2e, all", ("e2e",)),
    Suite("check-package", ("check-package",)),
)
MAKE_TEST = Suite("make test", ("test",))
TEST_ALL_PARTS = ("unit", "integration", "e2e, all", "check-package")


@dataclass(frozen=True)
class Timing:
    """How long a suite took and what pytest said about it."""

    suite: Suite
    seconds: float
    cpu_seconds: float
    load: float
    ok: bool
    summary: str


def children_cpu_seconds() -> float:
    """User + system CPU time of every finished child process (and theirs) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(suite: Suite, venv: str) -> Timing:
    """Run one suite through make and time it (wall and CPU)."""
    command = ["make", "--no-print-directory", *suite.make_args, f"VENV={venv}"]
    load, cpu_before, start = os.getloadavg()[0], children_cpu_seconds(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    seconds, cpu_seconds = time.perf_counter() - start, children_cpu_seconds() - cpu_before
    summaries = [match.group(1) for match in SUMMARY.finditer(result.stdout)]
    summary = "; ".join(summaries) or result.stdout.strip()[-80:]
    return Timing(suite, seconds, cpu_seconds, load, result.returncode == 0, summary)


def row(label: str, seconds: float, cpu_seconds: float, note: str) -> str:
    """One line of the table."""
    return f"{label:<16} {seconds:>7.1f} s {cpu_seconds:>7.1f} s CPU   {note}"


def bench(suites: tuple[Suite, ...], venv: str) -> list[Timing]:
    """Run the suites one after another, printing each row as it finishes."""
    timings = []
    for suite in suites:
        timing = run(suite, venv)
        note = f"load {timing.load:.1f}; " + (timing.summary if timing.ok else f"FAILED: {timing.summary}")
        print(row(suite.label, timing.seconds, timing.cpu_seconds, note), flush=True)
        timings.append(timing)
    return timings


def main() -> None:
    """Print the wall time of every suite, then of make test and make test-all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-slow", action="store_true", help="time make test's suites only")
    parser.add_argument("--venv", default=".venv", help="the venv the Makefile uses (default .venv)")
    args = parser.parse_args()
    timings = bench(FAST if args.skip_slow else FAST + FULL, args.venv)
    timings += bench((MAKE_TEST,), args.venv)
    if not args.skip_slow:
        by_label = {timing.suite.label: timing for timing in timings}
        parts = [by_label[label] for label in TEST_ALL_PARTS]
        total, cpu_total = sum(part.seconds for part in parts), sum(part.cpu_seconds for part in parts)
        print(row("make test-all", total, cpu_total, "sum of: " + ", ".join(TEST_ALL_PARTS)))
    if not all(timing.ok for timing in timings):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
