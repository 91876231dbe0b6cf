"""Cold start per function: a fresh interpreter imports the handler's module, as Lambda does (median of 5).

Printed next to the floor measured in the same run: a fresh interpreter importing boto3 + chalice.app,
which every function pays anyway. By default every module has its bytecode, as in the packaged zip
(scripts/package.py adds it; `make install` compiles the venv); --no-bytecode compiles everything
from source, which is what a zip without .pyc files (chalice's own) costs on each cold start.
Usage: python -m scripts.bench_cold_start [--runs 5] [--stage dev] [--no-bytecode]
"""

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile

from devstack.project import PROJECT_DIR, app_functions, function_environment

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


def handlers(stage: str) -> dict[str, str]:
    """Map each chalice function name to its Lambda handler string (`module.attribute`)."""
    os.environ.update(function_environment(stage))
    from app import app

    # A blueprint's function runs from its own module (Handler `chalicelib.<module>.<function>`):
    # Lambda imports that module, not app.py, so that is what its cold start pays.
    found = {"api_handler": "app.app"} if app.routes else {}
    found.update({function.name: function.handler_string for function in app_functions(app)})
    return found


def interpreter(bytecode: bool, scratch: str) -> list[str]:
    """The command line of a fresh interpreter that finds every module's bytecode, or none at all."""
    if bytecode:
        compileall.compile_dir(PROJECT_DIR / "chalicelib", quiet=1)
        compileall.compile_file(PROJECT_DIR / "app.py", quiet=1)
        return [sys.executable]
    # An empty bytecode cache elsewhere: Python ignores every __pycache__ and compiles from source.
    return [sys.executable, "-X", f"pycache_prefix={scratch}"]


def measure(python: list[str], body: str, stage: str, runs: int) -> float:
    """Median seconds a fresh interpreter spends running body."""
    env = {**os.environ, **function_environment(stage), "PYTHONDONTWRITEBYTECODE": "1"}
    samples = []
    for _ in range(runs):
        result = subprocess.run(  # noqa: S603 - our own interpreter and code
            [*python, "-c", TIMED.format(body=body)],
            capture_output=True,
            text=True,
            cwd=PROJECT_DIR,
            env=env,
            check=True,
        )
        samples.append(float(result.stdout.strip().splitlines()[-1]))
    return statistics.median(samples)


def main(argv: list[str] | None = None) -> int:
    """Print the floor, then every function's cold start and its excess over the floor."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-bytecode", dest="bytecode", action="store_false", help="compile every module from source")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        python = interpreter(args.bytecode, scratch)
        floor = measure(python, FLOOR, args.stage, args.runs)
        results = {
            name: measure(python, handler_body(handler), args.stage, args.runs)
            for name, handler in handlers(args.stage).items()
        }
    if args.json:
        print(json.dumps({"bytecode": args.bytecode, "floor_s": floor, "functions_s": results}))
        return 0
    source = "with bytecode, as packaged" if args.bytecode else "from source (no .pyc)"
    print(f"median of {args.runs} fresh interpreters (import + handler lookup, {source}), stage {args.stage}")
    print(f"  {'floor: import boto3, chalice.app':40} {floor * 1000:8.0f} ms")
    for name, seconds in results.items():
        print(f"  {name:40} {seconds * 1000:8.0f} ms  ({seconds / floor:.2f}x floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
