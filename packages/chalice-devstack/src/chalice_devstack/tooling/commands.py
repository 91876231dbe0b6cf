"""The tooling's `devstack` subcommands: package, check, bench, profile, load, lessons.

Only argument definitions live here; each command imports its module when it runs, so
`devstack --help` loads none of chalice's packager, cfn-lint, pyinstrument or locust.
"""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from chalice_devstack.cli import add_subcommands, command, fail, project_and_settings
from chalice_devstack.errors import CommandError

SubCommands = dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]]


def stage_flag(parser: argparse.ArgumentParser) -> None:
    """--stage, the .chalice/config.json stage."""
    parser.add_argument("--stage", help="the .chalice/config.json stage (default dev)")


def package_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack package`'s flags."""
    stage_flag(parser)
    parser.add_argument("--out", type=Path, help="the folder for sam.json and deployment.zip (default dist)")


@command(
    "package",
    "chalice package + the resources file + fix-ups and bytecode: sam.json, deployment.zip; unresolved references fail",
    package_flags,
)
def package(args: argparse.Namespace) -> None:
    """Package one stage, print what was written; fail (one line per problem) on a reference to nothing."""
    from chalice_devstack.tooling.cfn_lint import reference_problems
    from chalice_devstack.tooling.package import build, report

    project, settings = project_and_settings(args)
    template = build(project, settings.stage, settings.region, args.out or project.root / "dist")
    print(report(template))
    problems = reference_problems(template)
    for problem in problems:
        print(f"devstack: {problem}", file=sys.stderr)
    if problems:
        raise CommandError(
            f"{project.relative(template)}: {len(problems)} unresolved reference(s) (above): a GetAtt, Ref or Sub "
            f"names what the template lacks; fix them in {project.relative(project.resources_file)} or app.py"
        )


def check_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack check`'s arguments."""
    parser.add_argument("templates", nargs="*", type=Path, help="packaged templates (default dist/sam.json if there)")
    stage_flag(parser)
    parser.add_argument("--package", action="store_true", help="package every stage first and check those templates")
    parser.add_argument("--settings-class", help="`module:Class`, a pydantic settings class: the env vars code reads")
    parser.add_argument("--no-cfn-lint", dest="lint", action="store_false", help="skip cfn-lint on the templates")


@command(
    "check", "every missing piece at once: policy files, env vars per stage, mappings, template rules", check_flags
)
def check(args: argparse.Namespace) -> None:
    """Print every problem with its fix; exit 1 if there is any."""
    from chalice_devstack.tooling.project_checks import describe
    from chalice_devstack.tooling.run_checks import check as run

    project, settings = project_and_settings(args)
    default = project.root / "dist" / "sam.json"
    templates = args.templates or ([default] if default.exists() and not args.package else [])
    problems = run(project, settings, templates, args.package, args.lint)
    print(describe(problems))
    sys.exit(1 if problems else 0)


def openapi_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack openapi`'s flags."""
    stage_flag(parser)
    parser.add_argument("--output", type=Path, help="write the document here (default: print it)")
    parser.add_argument("--check", action="store_true", help="exit 1 if --output differs from the app's document")


@command("openapi", "the OpenAPI 3.1 document of the app's routes and the pydantic models they declare", openapi_flags)
def openapi(args: argparse.Namespace) -> None:
    """Print or write the app's OpenAPI document; with --check, fail if the written one is stale."""
    from chalice_devstack.tooling.openapi import write

    project, settings = project_and_settings(args)
    sys.exit(write(project, settings.stage, args.output, args.check))


def cold_start_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack bench cold-start`'s flags."""
    stage_flag(parser)
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function (median)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-bytecode", dest="bytecode", action="store_false", help="compile every module from source")


def cold_start(args: argparse.Namespace) -> int:
    """Print the import floor and every function's cold start."""
    from chalice_devstack.tooling.cold_start import as_json, bench, render

    project, settings = project_and_settings(args)
    figures = bench(project, settings.stage, args.runs, args.bytecode)
    print(as_json(figures) if args.json else render(figures))
    return 0


def events_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack bench events`' flags."""
    parser.add_argument("--samples", type=int, default=30, help="events per trigger")


def event_latency(args: argparse.Namespace) -> int:
    """Print SQS and stream event latencies (send to handler start)."""
    from chalice_devstack.tooling.event_latency import bench

    return bench(args.samples)


def ready_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack bench ready`'s flags."""
    parser.add_argument("--runs", type=int, default=3, help="starts of each (median)")
    parser.add_argument("--calls", type=int, default=300, help="GetItem calls per start (median)")
    parser.add_argument(
        "--idle-seconds", type=float, default=60.0, help="window of the idle CPU figure (first run; 0: skip it)"
    )


def ready(args: argparse.Namespace) -> int:
    """Print time to ready, GetItem overhead and idle CPU against a bare moto server."""
    from chalice_devstack.tooling.ready import bench

    project, _ = project_and_settings(args)
    print(bench(project.root, args.runs, args.calls, args.idle_seconds))
    return 0


def api_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack bench api`'s flags."""
    stage_flag(parser)
    parser.add_argument("--clients", type=int, default=64, help="concurrent keep-alive clients")
    parser.add_argument("--requests", type=int, default=50, help="requests per client")
    parser.add_argument("--path", default="/", help="the route every client GETs")
    parser.add_argument("--url", help="a running API (default: start the project's devstack for the run)")


def api(args: argparse.Namespace) -> int:
    """Print connection errors, >= 500 answers, rps and latency of concurrent keep-alive clients."""
    from chalice_devstack.tooling.api_bench import bench

    project, settings = project_and_settings(args)
    return bench(project, settings.stage, settings.region, args.url, args.path, args.clients, args.requests)


def runtime_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack bench runtime`'s flags."""
    stage_flag(parser)
    parser.add_argument("--path", default="/", help="the route every client GETs (default /)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive clients")
    parser.add_argument("--requests", type=int, default=50, help="requests per client")


def runtime(args: argparse.Namespace) -> int:
    """Print the API's throughput and latency with execution environments vs --single, and their ratios."""
    from chalice_devstack.tooling.runtime_bench import bench

    project, settings = project_and_settings(args)
    return bench(project, settings.stage, settings.region, args.path, args.clients, args.requests)


BENCHES: SubCommands = {
    "api": ("concurrent keep-alive clients against the local API: connection errors, >= 500, rps", api_flags, api),
    "cold-start": ("each function's cold start vs the boto3 + chalice.app import floor", cold_start_flags, cold_start),
    "events": (
        "SQS / DynamoDB stream event -> handler start latency of devstack's pollers",
        events_flags,
        event_latency,
    ),
    "ready": ("devstack's time to ready and GetItem overhead vs a bare moto server", ready_flags, ready),
    "runtime": (
        "the API with functions in execution environments vs in one process (--single): rps, latency, ratios",
        runtime_flags,
        runtime,
    ),
}


def nested(commands: SubCommands) -> Callable[[argparse.ArgumentParser], None]:
    """The arguments function of a command with subcommands of its own."""

    def arguments(parser: argparse.ArgumentParser) -> None:
        add_subcommands(parser, commands, "what", "run_sub")

    return arguments


def run_nested(args: argparse.Namespace) -> None:
    """Run the chosen subcommand; exit with its code."""
    sys.exit(args.run_sub(args))


command("bench", "benchmarks: api, cold-start, events, ready, runtime", nested(BENCHES))(run_nested)


def profile_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack profile`'s flags: the request, how many, and how to print the figures."""
    from chalice_devstack.tooling.profile import MAX_REQUESTS, bounded

    stage_flag(parser)
    parser.add_argument("--method", default="GET", help="the request's method (default GET)")
    parser.add_argument("--path", default="/", help="the request's path (default /)")
    parser.add_argument("--body", default="", help="the request's body (JSON unless --header sets Content-Type)")
    parser.add_argument("--header", action="append", default=[], help="'Name: value' (repeatable)")
    parser.add_argument("--expect", type=int, default=200, help="the status every answer must have (default 200)")
    # dest is not `seed`: that name is the setting (the hook), which this flag only switches on.
    parser.add_argument(
        "--seed", dest="run_seed", action="store_true", help="run [tool.devstack] seed on the in-process AWS first"
    )
    parser.add_argument("--requests", type=bounded, default=300, help=f"profiled requests (1..{MAX_REQUESTS})")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


@command("profile", "where one API request's time goes: project code vs moto, AWS SDK, chalice...", profile_flags)
def profile(args: argparse.Namespace) -> None:
    """Profile one request and print where its time goes."""
    from chalice_devstack.tooling.profile import Request, parse_header, profile, render

    project, settings = project_and_settings(args)
    try:
        headers = dict(parse_header(header) for header in args.header)
    except ValueError as error:
        fail(str(error), 2)
    if args.body and not any(name.lower() == "content-type" for name in headers):
        headers["Content-Type"] = "application/json"
    request = Request(args.method.upper(), args.path, args.body, headers, args.expect)
    figures = profile(project, settings, request, args.requests, args.run_seed)
    print(json.dumps(figures) if args.json else render(figures))


def load_run_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack load run`'s flags: defaults are the fixed baseline profile; every value can be overridden."""
    from chalice_devstack.tooling.load_run import MODES

    parser.add_argument("--host", help="API base URL (default: devstack's API)")
    parser.add_argument("--stage", help="stage whose resource names the users use (default dev)")
    parser.add_argument("--deployed", action="store_true", help="the host is a deployed stage, not a devstack")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--run-time", default="60s", help="locust's syntax: 60s, 2m, 1h30m")
    parser.add_argument("--classes", default="", help="comma-separated user classes (default: all)")
    parser.add_argument("--tags", default="", help="comma-separated locust tags")
    parser.add_argument("--devstack", choices=MODES, default="auto", help="auto: start one unless the API answers")
    parser.add_argument("--aws-endpoint", help="the AWS endpoint for a local run (default AWS_ENDPOINT_URL)")
    parser.add_argument("--locustfile", help="the user classes (default [tool.devstack] locustfile)")
    parser.add_argument("--reports-dir", help="where run folders go (default [tool.devstack] reports_dir)")


def load_run(args: argparse.Namespace) -> int:
    """Run locust headless against devstack or a stage; write the report folder."""
    from chalice_devstack.settings import load_settings
    from chalice_devstack.tooling.load_run import run

    project, settings = project_and_settings(args)
    args.stage = settings.stage
    # A stage other than the one devstack runs (--stage prod) is a deployed one, as --deployed says.
    deployed = args.deployed or settings.stage != load_settings(project.root).stage
    return run(project, settings, args, deployed)


def summarize_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack load summarize`'s argument."""
    parser.add_argument("run_dir", type=Path, help="a run folder")


def load_summarize(args: argparse.Namespace) -> int:
    """Write and print a run folder's summary.json."""
    from chalice_devstack.tooling.load_report import SUMMARY_FILE, format_table, summarize

    print(format_table(summarize(args.run_dir)))
    print(f"summary: {args.run_dir / SUMMARY_FILE}")
    return 0


def compare_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack load compare`'s arguments."""
    from chalice_devstack.tooling.load_report import DEFAULT_MIN_DELTA_MS, DEFAULT_MIN_REQUESTS, DEFAULT_THRESHOLD

    parser.add_argument("current", type=Path, help="run folder or summary.json")
    parser.add_argument("baseline", type=Path, help="baseline folder or summary.json")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="allowed change (0.2 = 20%%)")
    parser.add_argument("--min-delta-ms", type=float, default=DEFAULT_MIN_DELTA_MS)
    parser.add_argument("--min-requests", type=int, default=DEFAULT_MIN_REQUESTS)


def load_compare(args: argparse.Namespace) -> int:
    """Compare a run with a baseline; 1 on any regression."""
    from chalice_devstack.tooling.load_report import compare, format_comparison, profile_differences, read_summary

    current, baseline = read_summary(args.current), read_summary(args.baseline)
    results = compare(current, baseline, args.threshold, args.min_delta_ms, args.min_requests)
    print(format_comparison(results, args.threshold))
    for difference in profile_differences(current, baseline):
        print(f"warning: the runs used different profiles ({difference}); compare like with like")
    return 1 if any(item.regression for item in results) else 0


LOADS: SubCommands = {
    "run": ("run locust headless with a fixed profile; write a report folder", load_run_flags, load_run),
    "summarize": ("write and print summary.json of a run folder", summarize_flags, load_summarize),
    "compare": ("compare a run against a baseline; exit 1 on regression", compare_flags, load_compare),
}
command("load", "load tests: run, summarize, compare", nested(LOADS))(run_nested)


def lessons_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack lessons`' arguments; its help ends with the marks a lesson uses."""
    from chalice_devstack.tooling import lessons

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = lessons.__doc__
    parser.add_argument("paths", nargs="+", type=Path, help="markdown lessons, or folders of them (*.md by name)")
    parser.add_argument(
        "--use-running",
        action="store_true",
        help="run against the devstack already answering on the configured ports (default: start one on free ports)",
    )
    stage_flag(parser)


@command(
    "lessons", "run markdown lessons' marked shell blocks in order, in one shell, against one devstack", lessons_flags
)
def lessons(args: argparse.Namespace) -> None:
    """Run the lessons; print each block's outcome, then the first divergence; exit 1 on one."""
    import contextlib
    import time

    from chalice_devstack.testing import DevstackError
    from chalice_devstack.tooling.lessons import (
        LessonError,
        devstack_for_lessons,
        lesson_files,
        parse,
        run_lessons,
        shell_environment,
    )

    project, settings = project_and_settings(args)
    try:
        files = lesson_files(args.paths)
        for lesson in files:
            parse(lesson)  # every mark checked before anything starts
    except LessonError as error:
        fail(str(error), 2)
    started = time.monotonic()
    stack: contextlib.AbstractContextManager[dict[str, str]] = (
        contextlib.nullcontext({})
        if args.use_running
        else devstack_for_lessons(project.root, settings.stage, settings.region)
    )
    try:
        with stack as env:
            tally = run_lessons(files, project.root, shell_environment(env))
    except DevstackError as error:
        fail(str(error))
    if tally.divergence:
        print(tally.divergence.report(), flush=True)
    outcome = "FAILED" if tally.divergence else "passed"
    print(
        f"lessons {outcome}: {len(files)} files, {tally.ran} blocks ran, {tally.skipped} not executed, "
        f"{time.monotonic() - started:.1f} s"
    )
    sys.exit(1 if tally.divergence else 0)
