"""`devstack bench cold-start`: a fresh interpreter imports each handler's module, as Lambda does (median of 5).

Printed next to the floor measured in the same run: a fresh interpreter importing boto3 + chalice.app,
which every function pays anyway. By default every module has its bytecode, as in the packaged zip
(`devstack package` adds it); --no-bytecode compiles everything from source, which is what a zip
without .pyc files (chalice's own) costs on each cold start.

    devstack bench cold-start [--runs 5] [--stage dev] [--no-bytecode] [--json]
"""

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from typing import Any

from chalice_devstack.project import Project
from chalice_devstack.tooling.app_loader import function_handlers, load_app

TIMED = """
import sys, time
start = time.perf_counter()
{body}
print(time.perf_counter() - start)
"""
FLOOR = "import boto3, chalice.app"
HANDLER = "import {module}\nhandler = {handler}"


def handler_body(handler: str) -> str:
    """The code a cold start runs for a `module.attribute` handler: import the module, look it up."""
    return HANDLER.format(module=handler.rsplit(".", 1)[0], handler=handler)


def interpreter(project: Project, bytecode: bool, scratch: str) -> list[str]:
    """The command line of a fresh interpreter that finds every module's bytecode, or none at all."""
    if bytecode:
        if (project.root / "chalicelib").is_dir():
            compileall.compile_dir(project.root / "chalicelib", quiet=1)
        compileall.compile_file(project.root / "app.py", quiet=1)
        return [sys.executable]
    # An empty bytecode cache elsewhere: Python ignores every __pycache__ and compiles from source.
    return [sys.executable, "-X", f"pycache_prefix={scratch}"]


def measure(project: Project, python: list[str], body: str, stage: str, runs: int) -> float:
    """Median seconds a fresh interpreter spends running body in the project's folder."""
    env = {**os.environ, **project.function_environment(stage), "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for _ in range(runs):
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [*python, "-c", TIMED.format(body=body)],
            capture_output=True,
            text=True,
            cwd=project.root,
            env=env,
            check=True,
        )
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def bench(project: Project, stage: str, runs: int, bytecode: bool) -> dict[str, Any]:
    """The floor and every function's cold start, in seconds."""
    handlers = function_handlers(load_app(project, stage))
    with tempfile.TemporaryDirectory() as scratch:
        python = interpreter(project, bytecode, scratch)
        floor = measure(project, python, FLOOR, stage, runs)
        results = {name: measure(project, python, handler_body(h), stage, runs) for name, h in handlers.items()}
    return {"bytecode": bytecode, "runs": runs, "stage": stage, "floor_s": floor, "functions_s": results}


def render(figures: dict[str, Any]) -> str:
    """The figures as a table: the floor, then each function and its ratio to the floor."""
    source = "with bytecode, as packaged" if figures["bytecode"] else "from source (no .pyc)"
    floor = figures["floor_s"]
    lines = [
        f"median of {figures['runs']} fresh interpreters (import + handler lookup, {source}), stage {figures['stage']}",
        f"  {'floor: import boto3, chalice.app':40} {floor * 1000:8.0f} ms",
    ]
    for name, seconds in figures["functions_s"].items():
        lines.append(f"  {name:40} {seconds * 1000:8.0f} ms  ({seconds / floor:.2f}x floor)")
    return "\n".join(lines)


def as_json(figures: dict[str, Any]) -> str:
    """The figures as one JSON object (what --json prints)."""
    return json.dumps({key: figures[key] for key in ("bytecode", "floor_s", "functions_s")})
