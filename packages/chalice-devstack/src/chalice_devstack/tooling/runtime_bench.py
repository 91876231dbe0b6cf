"""`devstack bench runtime`: the API with its function in execution environments vs in one process (`--single`).

A benchmark that prints numbers, not a test. It starts the project's devstack twice on free ports,
first as `devstack up` runs by default (each function in worker processes), then with `--single`
(every function on the threads of devstack's own process), and runs the same concurrent keep-alive
clients against one route of each (`devstack bench api`'s clients). A first round per mode
starts the environments (cold starts) and is not counted. It prints each mode's throughput and
latency and their ratios, environments over one process.

    devstack bench runtime [--path /] [--clients 8] [--requests 50]
"""

from typing import Any

from chalice_devstack.project import Project
from chalice_devstack.testing import running_devstack
from chalice_devstack.tooling.api_bench import bench_url

MODES = (("environments", False), ("single", True))
FIGURES = (("rps", "requests/s"), ("p50_ms", "p50 ms"), ("p95_ms", "p95 ms"))


def measure(project: Project, stage: str, region: str, single: bool, path: str, clients: int, requests: int) -> Any:
    """Start the devstack in one mode, warm it with one round, measure a second."""
    with running_devstack(project, stage, region, single=single) as stack:
        bench_url(stack.api_url, path, clients, 1)  # cold starts: every environment the clients need
        return bench_url(stack.api_url, path, clients, requests)


def render(figures: dict[str, dict[str, Any]], path: str, clients: int) -> str:
    """One line per figure: each mode's value and the ratio environments / single."""
    workers, single = figures["environments"], figures["single"]
    lines = [f"GET {path}, {clients} keep-alive clients, {workers['answered']} requests per mode"]
    lines.append(f"{'':<12}{'environments':>14}{'--single':>12}{'ratio':>8}")
    for key, label in FIGURES:
        ratio = workers[key] / single[key] if single[key] else float("nan")
        lines.append(f"{label:<12}{workers[key]:>14.2f}{single[key]:>12.2f}{ratio:>7.2f}x")
    failures = {mode: figures[mode]["responses_5xx"] + figures[mode]["connection_errors"] for mode in figures}
    lines.append(f"failed requests: environments {failures['environments']}, --single {failures['single']}")
    return "\n".join(lines)


def bench(project: Project, stage: str, region: str, path: str, clients: int, requests: int) -> int:
    """Print both modes' figures and their ratios; exit 1 when a request failed."""
    figures = {mode: measure(project, stage, region, single, path, clients, requests) for mode, single in MODES}
    print(render(figures, path, clients))
    failed = any(item["responses_5xx"] or item["connection_errors"] for item in figures.values())
    return 1 if failed else 0
