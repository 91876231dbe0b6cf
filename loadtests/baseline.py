"""`make baseline`: generate the default service, load-test it on its devstack, keep the report.

Steps: render the template with its defaults into a scratch folder, install the service with
its `load` extra, run `make load` there (devstack started for the run, split mode by default:
the AWS endpoint in its own process), then copy the report into loadtests/baselines/<date>/
with a PNG of rps and p95 over time per endpoint and a README naming the machine.
"""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRATCH = REPO_ROOT / ".cache" / "baseline"
BASELINES = REPO_ROOT / "loadtests" / "baselines"
# What a baseline folder keeps of a run (the raw locust JSON and the devstack log stay behind).
KEEP = ("summary.json", "run.json", "report.html", "locust_stats.csv", "locust_stats_history.csv",
        "locust_failures.csv")  # fmt: skip


def sh(command: list[str], cwd: Path, **env: str) -> None:
    """Run a command, streaming its output; stop on failure."""
    print(f"==> {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=cwd, check=True, env={**os.environ, **env})


def generate(scratch: Path) -> Path:
    """Render the template's defaults into scratch; return the service folder."""
    from cookiecutter.main import cookiecutter

    shutil.rmtree(scratch, ignore_errors=True)
    return Path(cookiecutter(str(REPO_ROOT), no_input=True, output_dir=str(scratch)))


def history(path: Path) -> dict[str, list[tuple[float, float, float]]]:
    """Per endpoint: (seconds since start, rps, p95 ms) rows from locust's stats history CSV."""
    series: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    with path.open() as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return {}
    start = float(rows[0]["Timestamp"])
    for row in rows:
        if row["Name"] == "Aggregated" or row["Type"] in {"PIPELINE", "QUEUE"}:
            continue
        p95 = row.get("95%", "N/A")
        series[f"{row['Type']} {row['Name']}"].append(
            (float(row["Timestamp"]) - start, float(row["Requests/s"]), float(p95) if p95 != "N/A" else 0.0)
        )
    return dict(series)


def plot(run_dir: Path, out: Path) -> None:
    """Draw rps and p95 over time per endpoint into out (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = history(run_dir / "locust_stats_history.csv")
    figure, (rps_axis, p95_axis) = plt.subplots(2, 1, figsize=(11, 8), sharex=True)
    for name, points in sorted(series.items()):
        seconds = [point[0] for point in points]
        rps_axis.plot(seconds, [point[1] for point in points], label=name)
        p95_axis.plot(seconds, [point[2] for point in points], label=name)
    rps_axis.set_ylabel("requests/s")
    p95_axis.set_ylabel("p95 (ms, 10 s window)")
    p95_axis.set_xlabel("seconds since start")
    rps_axis.legend(fontsize=7, loc="upper left", ncols=2)
    run = json.loads((run_dir / "run.json").read_text())
    figure.suptitle(f"{run['users']} users, {run['run_time']}, devstack {run.get('devstack')}")
    figure.tight_layout()
    figure.savefig(out, dpi=90)


def readme(summary: dict[str, Any], command: str, note: str = "") -> str:
    """The baseline folder's README: how it was made, on what, and the headline numbers."""
    run, host = summary["run"], summary["run"]["machine"]
    lines = [
        f"# Baseline {run['started']}",
        "",
        f"Made with `{command}` at the template root: the default service, its devstack in "
        f"`{run.get('devstack')}` mode, locust headless with {run['users']} users (spawn {run['spawn_rate']}/s) "
        f"for {run['run_time']}, user classes: {run.get('classes', 'all')}.",
        "",
        *([f"**Note:** {note}", ""] if note else []),
        "## Machine",
        "",
        f"- {host['cores']} cores, {host['memory_gib']} GiB, {host['platform']}, Python {host['python']}",
        f"- load average (1 min) before / after the run: {host['load_average_1m_before']} / "
        f"{host.get('load_average_1m_after')} (the machine is shared: other work ran at the same time)",
        f"- versions: {', '.join(f'{k} {v}' for k, v in host['versions'].items())}",
        "",
        "## Results (ms)",
        "",
        "| endpoint | requests | failures | rps | p50 | p95 | p99 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, m in [*summary["endpoints"].items(), ("TOTAL (HTTP)", summary["total"])]:
        lines.append(
            f"| {name} | {m['requests']} | {m['failures']} | {m['rps']} | {m['p50_ms']:.0f} | {m['p95_ms']:.0f} "
            f"| {m['p99_ms']:.0f} |"
        )
    for section, values in summary.get("pipeline", {}).items():
        lines += ["", f"**{section}**: " + ", ".join(f"{k} = {v}" for k, v in values.items())]
    lines += ["", "Compare a later run: `make load-compare BASELINE=<this folder>` in a generated service.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Generate, install, load-test, keep the report; print where it went."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devstack", default="split", choices=["split", "single", "off"])
    parser.add_argument("--users", default="10")
    parser.add_argument("--spawn-rate", default="5")
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--classes", default="", help="comma-separated user classes (default: all)")
    parser.add_argument("--note", default="", help="a caveat for the README (what was special about this run)")
    parser.add_argument("--name", default=datetime.now(UTC).strftime("%Y-%m-%d"), help="baseline folder name")
    parser.add_argument("--scratch", type=Path, default=SCRATCH)
    args = parser.parse_args(argv)

    service = generate(args.scratch)
    sh(["make", "install-load", "VENV=.venv"], service)
    sh(
        ["make", "load", "VENV=.venv", f"DEVSTACK={args.devstack}", f"USERS={args.users}",
         f"SPAWN_RATE={args.spawn_rate}", f"RUN_TIME={args.run_time}", f"CLASSES={args.classes}"],
        service,
    )  # fmt: skip
    run_dir = sorted((service / "loadtests" / "reports").iterdir())[-1]
    target = BASELINES / args.name
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in KEEP:
        if (run_dir / name).exists():
            shutil.copy2(run_dir / name, target / name)
    plot(run_dir, target / "plot.png")
    summary = json.loads((run_dir / "summary.json").read_text())
    profile = f"--devstack {args.devstack} --users {args.users} --run-time {args.run_time}"
    command = f"make baseline BASELINE_ARGS='{profile}" + (f" --classes {args.classes}'" if args.classes else "'")
    (target / "README.md").write_text(readme(summary, command, args.note))
    print(f"baseline: {target.relative_to(REPO_ROOT)}/ (README.md, summary.json, plot.png, report.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
