"""`devstack load run`: run the project's locustfile headless with a fixed profile; write <reports_dir>/<timestamp>/.

Against devstack by default (starting it for the run when nothing answers on the API port),
or against a deployed stage with --host https://... --stage prod (or --deployed). Anything else on
the host is refused: devstack marks its answers (endpoint.MARKER_HEADER). The report folder gets
locust's CSV + HTML, run.json (profile and machine) and summary.json, and a short table
is printed. The locust process gets LOAD_REPORT_DIR, LOAD_RUN_ID and LOAD_STAGE; the
locustfile writes STATS_FILE and PIPELINE_FILE there (see load_report).

Exit code: 1 when every request failed, or a pipeline value judged "zero" (a leftover in a DLQ,
lost orders...) is not; each named in one line. One deadline bounds the run: locust gets it as
LOAD_FINISH_BY (locust_support.finish_by bounds every end-of-run wait by it), and the driver
stops waiting EXIT_MARGIN_S after it, with one line, instead of a traceback.
"""

import argparse
import contextlib
import importlib.metadata
import json
import os
import platform
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from chalice_devstack.errors import CommandError
from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling.load_report import META_FILE, STATS_FILE, format_table, summarize

# devstack's command line per mode; split = the AWS endpoint in its own process,
# so the API and the emulator do not share one interpreter lock.
DEVSTACK_COMMANDS = {
    "single": [sys.executable, "-m", "chalice_devstack", "up", "--single"],
    "split": [sys.executable, "-m", "chalice_devstack", "up"],
}
MODES = ("auto", "off", "single", "split")
READY_TIMEOUT_S = 60.0
# Time locust may take after the run for users to finish and for the last pipeline sweep.
STOP_TIMEOUT_S = 10
SWEEP_MARGIN_S = 150.0
# After the end-of-run deadline: time for locust to write its files and the HTML report, and exit.
EXIT_MARGIN_S = 30.0


def seconds(run_time: str) -> float:
    """Locust's run-time syntax ('60', '60s', '2m', '1h30m') in seconds."""
    if re.fullmatch(r"\d+(\.\d+)?", run_time):
        return float(run_time)
    parts = re.findall(r"(\d+)([hms])", run_time)
    if not parts or "".join(f"{n}{u}" for n, u in parts) != run_time:
        raise CommandError(f"--run-time {run_time!r} is not a run time; use locust's syntax, e.g. 60s, 2m, 1h30m")
    return float(sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def is_local(host: str) -> bool:
    """True for a loopback host (devstack), False for a deployed stage."""
    return bool(re.match(r"https?://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", host))


def answers(url: str) -> bool:
    """True when GET url answers at all within a second."""
    return devstack_answers(url) is not None


def devstack_answers(url: str) -> bool | None:
    """Whether GET url is answered by a devstack (True), by something else (False), or not at all (None)."""
    from chalice_devstack.endpoint import MARKER_HEADER

    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (loopback or the user's own host)
            return response.headers.get(MARKER_HEADER) is not None
    except urllib.error.HTTPError as error:
        return error.headers.get(MARKER_HEADER) is not None
    except OSError:
        return None


def target_mode(host: str, mode: str, deployed: bool) -> str:
    """The devstack mode for a run against host; refuse (one line) a host neither devstack nor declared deployed."""
    if deployed:
        return "off"
    if not is_local(host):
        raise CommandError(
            f"--host {host} is not a devstack; if it is a deployed stage say so with --deployed or --stage <stage> "
            "(make load HOST=... DEPLOYED=1 or STAGE=<stage>)"
        )
    found = devstack_answers(host)
    if found is False:
        raise CommandError(
            f"something that is not devstack answers on {host}; stop it (devstack starts for the run), "
            "or pass --deployed (make: DEPLOYED=1) if it is a deployed stage"
        )
    if found is None and mode == "off":
        raise CommandError(f"no devstack answers on {host}; start one (make dev) or drop --devstack off")
    return mode


def _stop(process: "subprocess.Popen[bytes]") -> None:
    """Ctrl-C devstack's process group (its clean shutdown); kill it if it lingers."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _port(url: str) -> str:
    return str(urllib.parse.urlsplit(url).port or 80)


@contextlib.contextmanager
def devstack(project: Project, mode: str, host: str, aws_endpoint: str, stage: str, log_file: Path) -> Iterator[str]:
    """Start devstack in `mode` for the duration of the block (unless mode is 'off'); yield the mode used."""
    # Any HTTP answer (a 404 included) means an API listens: a project need not have a /health route.
    if mode == "off" or (mode == "auto" and answers(host)):
        yield "external"
        return
    mode = "split" if mode == "auto" else mode
    with log_file.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [*DEVSTACK_COMMANDS[mode], "--stage", stage],
            cwd=project.root,
            env={**os.environ, "DEVSTACK_API_PORT": _port(host), "DEVSTACK_AWS_PORT": _port(aws_endpoint)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while not answers(host):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"devstack did not come up ({mode}); see {log_file}")
                time.sleep(0.2)
            yield mode
        finally:
            _stop(process)


def _versions(*names: str) -> dict[str, str]:
    found = {}
    for name in names:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    return found


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def machine() -> dict[str, Any]:
    """What the numbers were measured on, including how busy the machine already was."""
    return {
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_average_1m_before": round(os.getloadavg()[0], 2),
        "versions": _versions("locust", "chalice", "chalice-devstack", "moto", "boto3"),
    }


def locust_command(args: argparse.Namespace, locustfile: Path, run_dir: Path) -> list[str]:
    """The headless locust invocation for the profile in args."""
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(locustfile),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        args.run_time,
        "--host",
        args.host,
        "--stop-timeout",
        str(STOP_TIMEOUT_S),
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--csv",
        str(run_dir / "locust"),
        "--csv-full-history",
        "--html",
        str(run_dir / "report.html"),
    ]
    if args.tags:
        command += ["--tags", *args.tags.split(",")]
    return command + (args.classes.split(",") if args.classes else [])


def locust_env(args: argparse.Namespace, project: Project, region: str, run_dir: Path) -> dict[str, str]:
    """Environment of the locust process: where to write, which stage, which AWS endpoint."""
    env = {
        **os.environ,
        "LOAD_REPORT_DIR": str(run_dir),
        "LOAD_RUN_ID": run_dir.name,
        "LOAD_STAGE": args.stage,
        "PYTHONPATH": str(project.root),
    }
    if is_local(args.host):
        # devstack's fake account: nothing in this run can reach a real one.
        env.update(
            {
                "AWS_ENDPOINT_URL": args.aws_endpoint,
                "AWS_ACCESS_KEY_ID": "devstack",
                "AWS_SECRET_ACCESS_KEY": "devstack",
                "AWS_SESSION_TOKEN": "devstack",
            }
        )
        env.pop("AWS_PROFILE", None)
    env.setdefault("AWS_DEFAULT_REGION", region)
    return env


def run(project: Project, settings: Settings, args: argparse.Namespace, deployed: bool = False) -> int:
    """Run the profile in args, write the report folder, print the summary table; 1 when the run says it failed."""
    host = args.host or settings.api_url
    run_s = seconds(args.run_time)
    mode = target_mode(host, args.devstack, deployed)
    args.host, args.aws_endpoint = host, args.aws_endpoint or os.environ.get("AWS_ENDPOINT_URL", settings.endpoint_url)
    run_dir = project.root / settings.reports_dir / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_dir.mkdir(parents=True)
    meta = run_meta(args)
    with devstack(project, mode, host, args.aws_endpoint, args.stage, run_dir / "devstack.log") as used:
        meta["devstack"] = used
        print(f"==> locust: {args.users} users, spawn {args.spawn_rate}/s, {args.run_time} against {host}")
        after_run = STOP_TIMEOUT_S + SWEEP_MARGIN_S
        command = locust_command(args, project.root / settings.locustfile, run_dir)
        env = {
            **locust_env(args, project, settings.region, run_dir),
            "LOAD_FINISH_BY": str(time.time() + run_s + after_run),
        }
        timeout = run_s + after_run + EXIT_MARGIN_S
        try:
            result = subprocess.run(command, cwd=project.root, env=env, timeout=timeout, check=False)  # noqa: S603
        except subprocess.TimeoutExpired:
            raise CommandError(
                f"locust did not finish within {timeout:.0f} s (run {run_s:.0f} s + {after_run:.0f} s for users to "
                f"stop and end-of-run waits + {EXIT_MARGIN_S:.0f} s to write its report); stopped, {run_dir} lacks it"
            ) from None
    return finish(run_dir, meta, result.returncode)


def run_meta(args: argparse.Namespace) -> dict[str, Any]:
    """run.json's profile and machine, before the run."""
    return {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": args.host,
        "stage": args.stage,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "run_time": args.run_time,
        "duration_s": seconds(args.run_time),
        "classes": args.classes or "all",
        "tags": args.tags or "all",
        "machine": machine(),
    }


def finish(run_dir: Path, meta: dict[str, Any], exit_code: int) -> int:
    """Write run.json, summarise the run and print its table; 2 when locust wrote no stats."""
    meta["locust_exit_code"] = exit_code
    meta["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    (run_dir / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    if not (run_dir / STATS_FILE).exists():
        print(f"locust wrote no stats (exit {exit_code}); see the output above", file=sys.stderr)
        return 2
    summary = summarize(run_dir)
    print(format_table(summary))
    print(f"report: {run_dir}/ (report.html, summary.json)")
    verdicts = failed_verdicts(summary, run_dir)
    for verdict in verdicts:
        print(f"devstack: load run failed: {verdict}", file=sys.stderr)
    return 1 if verdicts else 0


def failed_verdicts(summary: dict[str, Any], run_dir: Path) -> list[str]:
    """What makes a run a failure, one line each: every request failed, a value that must stay zero is not."""
    verdicts = []
    total = summary["total"]
    if total["requests"] and total["failures"] == total["requests"]:
        verdicts.append(f"all {total['requests']} requests failed ({first_failure(run_dir)})")
    for metric, way in summary.get("judge", {}).items():
        name, _, key = metric.partition(".")
        value = summary.get("pipeline", {}).get(name, {}).get(key)
        if way == "zero" and value:
            verdicts.append(f"{metric} = {value} (must be 0)")
    return verdicts


def first_failure(run_dir: Path) -> str:
    """The most frequent failure locust recorded (locust_failures.csv), as `METHOD name: error`."""
    import csv

    with contextlib.suppress(OSError, KeyError, ValueError), (run_dir / "locust_failures.csv").open() as rows:
        top = max(csv.DictReader(rows), key=lambda row: int(row["Occurrences"]))
        return f"most often {top['Method']} {top['Name']}: {top['Error'][:160]}"
    return "see report.html"
