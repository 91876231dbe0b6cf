"""`devstack`: run a Chalice project offline, and the tooling around it.

    devstack up [--stage dev] [--aws-port 4566] [--api-port 8000] [--single] ...
    devstack status
    devstack env                                          (eval "$(devstack env)": region, fake keys, endpoint, API)
    devstack trigger NAME
    devstack invoke NAME [--event FILE | --sample sqs|dynamodb|kinesis|sns|s3|eventbridge|schedule]
    devstack token USER [--group GROUP]... [--pool POOL]  (TOKEN=$(devstack token alice): an ID token of the user pool)
    devstack package | check | bench | profile | load | lessons ...   (the tooling: tooling/commands.py)

Run it anywhere inside a Chalice project (the folder holding .chalice/config.json, or below).
Settings: [tool.devstack] in the project's pyproject.toml < DEVSTACK_* env vars < these flags.
Bad input is one line, `devstack: <problem and fix>`, and a non-zero exit: a command raises
errors.CommandError and main() prints it.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from chalice_devstack import __version__
from chalice_devstack.errors import CommandError
from chalice_devstack.project import Project, offline_aws_environment
from chalice_devstack.settings import HOST, Settings, load_settings

Command = Callable[[argparse.Namespace], None]
Arguments = Callable[[argparse.ArgumentParser], None]
COMMANDS: dict[str, tuple[str, Arguments, Command]] = {}
# `up` waits for a signal in slices this long (a signal ends a slice at once: wait_for_signal).
IDLE_WAIT_SECONDS = 60.0


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line naming the problem and exit non-zero."""
    print(f"devstack: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def command(
    name: str, help_text: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda _: None
) -> Callable[[Command], Command]:
    """Register a subcommand: its help line, its arguments and the function that runs it."""

    def register(run: Command) -> Command:
        COMMANDS[name] = (help_text, arguments, run)
        return run

    return register


def project_and_settings(args: argparse.Namespace) -> tuple[Project, Settings]:
    """The project around the current folder and its settings, with this command's flags on top.

    A command that takes --stage gets a stage .chalice/config.json defines, or one line naming those it does.
    """
    flags = {key: getattr(args, key, None) for key in Settings.model_fields}
    root = Project.discover(Path(args.project) if args.project else None).root
    settings = load_settings(root, **flags)
    project = Project.at(root, settings.resources)
    if "stage" in args:
        project.check_stage(settings.stage)
    return project, settings


def settings_flags(parser: argparse.ArgumentParser) -> None:
    """The flags every command that finds a devstack accepts (ports, stage...)."""
    parser.add_argument("--aws-port", type=int, help="the AWS endpoint's port (default 4566)")
    parser.add_argument("--api-port", type=int, help="the API's port (default 8000)")


def up_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack up`'s flags."""
    settings_flags(parser)
    parser.add_argument("--stage", help="the .chalice/config.json stage (default dev)")
    parser.add_argument("--region", help="the region the functions see (default us-east-1)")
    parser.add_argument("--seed", help="`module:function` to run after provisioning")
    parser.add_argument("--resources", help="the resources file (default infra/resources.yaml)")
    parser.add_argument(
        "--single",
        action="store_true",
        default=None,
        help="one process, for debugging: the AWS endpoint and every function run in devstack's own process (a "
        "breakpoint in a handler stops there; concurrent invocations share module globals, unlike Lambda). "
        "Default: each function runs in execution environments, worker processes like Lambda's",
    )
    parser.add_argument(
        "--concurrency", type=int, help="environments per function without reserved_concurrency (default 4)"
    )
    parser.add_argument(
        "--no-reload", dest="reload", action="store_false", default=None, help="do not reload code when it changes"
    )
    parser.add_argument(
        "--no-snapshot",
        dest="snapshot",
        action="store_false",
        default=None,
        help="provision and seed afresh, not from the snapshot of an earlier start with the same inputs",
    )


def wait_for_signal(stop: threading.Event) -> None:
    """Block until a signal handler sets stop (SIGINT's raises KeyboardInterrupt here instead).

    The kernel may hand a process's signal to any of its threads, and Python runs the handler only
    when the main thread next runs; a main thread asleep in Event.wait would sleep on. The wakeup fd
    gets a byte from whichever thread the signal reached, so the select below returns at once.
    """
    import select
    import socket

    reader, writer = socket.socketpair()
    writer.setblocking(False)
    previous = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    try:
        while not stop.is_set():
            if select.select([reader], [], [], IDLE_WAIT_SECONDS)[0]:
                reader.recv(64)  # the handler has run by now (or runs at the next bytecode): stop is set
    finally:
        signal.set_wakeup_fd(previous)
        reader.close()
        writer.close()


@command("up", "start the AWS endpoint, the event sources and the API (Ctrl-C stops them)", up_flags)
def up(args: argparse.Namespace) -> None:
    """Start devstack and run until Ctrl-C (or SIGTERM)."""
    from chalice_devstack.launch import resume_collection
    from chalice_devstack.stack import Stack, StartError

    project, settings = project_and_settings(args)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("devstack").setLevel(logging.INFO)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # A shell starts background jobs with SIGINT ignored; Ctrl-C / kill -INT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = Stack(project, settings, echo=lambda line: print(line, flush=True))
    try:
        stack.start()
        layout = "one process" if settings.single else "endpoint in a child process; functions in worker processes"
        print(f"  project       {project.root}", flush=True)
        print(f"  AWS endpoint  {settings.endpoint_url}  (AWS_ENDPOINT_URL; {layout})", flush=True)
        print(f"  API           {settings.api_url}", flush=True)
        print(f"  console       {stack.console_url}  (watch it live in a browser)", flush=True)
        print(f"  functions     {', '.join(sorted(stack.registry.functions))}", flush=True)
        if stack.seeded:
            print(f"  seeded        {json.dumps(stack.seeded, default=str)}", flush=True)
        if stack.restored:
            from chalice_devstack.snapshot import RESTORED_NOTE

            print(RESTORED_NOTE, flush=True)
        print(f"devstack ready in {stack.ready_seconds:.2f}s (stage {settings.stage}; Ctrl-C stops)", flush=True)
        # launch.main paused the collector for start-up; what start-up built (moto, service models, the
        # app) lives as long as devstack, so the collector's full passes need not walk it again and again.
        resume_collection()
        wait_for_signal(stop)
    except StartError:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        raise
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the (sub-second) shutdown
    stack.stop()
    print("devstack stopped", flush=True)
    # Skip interpreter teardown (seconds of module/thread clean-up): everything is already stopped.
    os._exit(0)


def control(
    args: argparse.Namespace, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], Any]:
    """Call the running devstack's AWS endpoint; one clear line when nothing, or something else, answers."""
    import http.client  # here, not at the top: `up` starts the endpoint child before anything heavy

    from chalice_devstack.endpoint import MARKER_HEADER

    _, settings = project_and_settings(args)
    connection = http.client.HTTPConnection(HOST, settings.aws_port, timeout=120)
    try:
        connection.request(method, path, body=body, headers={"Content-Length": str(len(body)), **(headers or {})})
        response = connection.getresponse()
        data = response.read()
        if response.getheader(MARKER_HEADER) is None:  # every devstack control answer carries it
            raise CommandError(
                f"something that is not devstack answers on {HOST}:{settings.aws_port} (HTTP {response.status} to "
                f"{method} {path}); stop it and start devstack, or give devstack's port with --aws-port"
            )
        return response.status, dict(response.getheaders()), json.loads(data or b"null")
    except ConnectionRefusedError:
        raise CommandError(f"no devstack answers on {HOST}:{settings.aws_port}; start one with `devstack up`") from None
    finally:
        connection.close()


def message_of(body: Any) -> str:
    """The message of an error body, whatever its shape."""
    return str(body.get("message", body) if isinstance(body, dict) else body)


@command("status", "queue and DLQ depths, executions, recent invocations and errors", settings_flags)
def status(args: argparse.Namespace) -> None:
    """Print the running devstack's status view."""
    from chalice_devstack.status import render

    code, _, body = control(args, "GET", "/_devstack/status")
    if code != 200:
        fail(f"status: {message_of(body)}")
    print(render(body))


def shell_exports(settings: Settings) -> dict[str, str]:
    """What a shell needs to reach the devstack: region, fake keys (never a real account), endpoint and API URL."""
    return {
        **offline_aws_environment(settings.region, "devstack"),
        "AWS_ENDPOINT_URL": settings.endpoint_url,
        "AWS_PAGER": "",  # AWS CLI v2 would page every answer through `less`
        "API": settings.api_url,
    }


@command("env", 'print the exports a shell needs for the devstack: eval "$(devstack env)"', settings_flags)
def env(args: argparse.Namespace) -> None:
    """Print `export NAME=value` lines for the devstack's region, fake credentials, endpoint and API."""
    import shlex

    _, settings = project_and_settings(args)
    for name, value in shell_exports(settings).items():
        print(f"export {name}={shlex.quote(value)}")


def trigger_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack trigger`'s arguments."""
    parser.add_argument("name", help="the scheduled function's name")
    settings_flags(parser)


@command("trigger", "fire a schedule now, by function name", trigger_flags)
def trigger(args: argparse.Namespace) -> None:
    """Fire a schedule now; print its outcome; exit 1 when the function failed."""
    code, _, body = control(args, "POST", f"/_devstack/schedules/{args.name}")
    if code != 200:
        fail(message_of(body))
    outcome = "ok" if body["ok"] else f"ERROR {body['error_type']}: {body['error_message']}"
    print(f"{body['function']}: {outcome} in {body['duration_ms']:.1f} ms")
    print(json.dumps(body["payload"], indent=2, default=str))
    if not body["ok"]:
        sys.exit(1)


# Lambda-shaped sample events per trigger kind, shipped in chalice_devstack/events/ (as `sam local generate-event`).
SAMPLE_KINDS = ("sqs", "dynamodb", "kinesis", "sns", "s3", "eventbridge", "schedule")


def invoke_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack invoke`'s arguments."""
    parser.add_argument("name", help="the function: Chalice name, logical id, physical name or ARN")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--event", help="a JSON file with the event ('-' reads stdin; default {})")
    source.add_argument("--sample", choices=SAMPLE_KINDS, help="a sample event of that trigger kind, as Lambda gets it")
    settings_flags(parser)


def sample_event(kind: str) -> bytes:
    """The packaged sample event of one trigger kind."""
    from importlib.resources import files

    return (files("chalice_devstack") / "events" / f"{kind}.json").read_bytes()


def read_event(source: str | None) -> bytes:
    """The event to invoke with, checked to be JSON."""
    try:
        raw = sys.stdin.read() if source == "-" else Path(source).read_text() if source else "{}"
        json.loads(raw)
    except OSError as error:
        fail(f"--event {source}: {error.strerror}", 2)
    except ValueError as error:
        fail(f"--event {source}: not JSON ({error})", 2)
    return raw.encode()


@command("invoke", "invoke a function on the running devstack, as `aws lambda invoke` does", invoke_flags)
def invoke(args: argparse.Namespace) -> None:
    """Invoke a function; print its payload; exit 1 when it raised."""
    event = sample_event(args.sample) if args.sample else read_event(args.event)
    code, headers, body = control(args, "POST", f"/2015-03-31/functions/{args.name}/invocations", event)
    if code >= 400:
        fail(message_of(body))
    print(json.dumps(body, indent=2, default=str))
    if "X-Amz-Function-Error" in headers:
        sys.exit(1)


SIGN_IN_DETAILS = """\
The user is created in the devstack's user pool if new (password chalice_devstack.tokens.DEV_PASSWORD,
confirmed) and ends in exactly the groups given. The token printed is the ID token: API Gateway's
Cognito authorizer takes id tokens on routes without authorization scopes (every Chalice route that
does not call `with_scopes`), and the id token is the one carrying the user's claims, cognito:groups
among them, to the handler. Use it as `Authorization: $TOKEN` (with or without `Bearer `).
Exit 2 with one line when no devstack answers or the pool or a group does not exist."""


def token_flags(parser: argparse.ArgumentParser) -> None:
    """`devstack token`'s arguments."""
    parser.add_argument("user", help="the user's name (created in the pool if new)")
    parser.add_argument(
        "--group", action="append", default=[], help="a group of the pool to put the user in (repeat for more)"
    )
    parser.add_argument("--pool", help="the pool's logical id, id or name (needed only when there are several)")
    parser.add_argument("--region", help="the devstack's region (default: its setting, us-east-1 unless set)")
    settings_flags(parser)
    parser.epilog = SIGN_IN_DETAILS
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


@command("token", "print an ID token of a user of the user pool: TOKEN=$(devstack token alice)", token_flags)
def token(args: argparse.Namespace) -> None:
    """Print the ID token of a user of the running devstack's user pool, and nothing else."""
    from chalice_devstack.testing import cognito_token

    _, settings = project_and_settings(args)
    print(cognito_token(settings.endpoint_url, args.user, args.group, args.pool, settings.region))


def version_line() -> str:
    """The installed version and where it came from (a local path or the package index)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        direct = distribution("chalice-devstack").read_text("direct_url.json")
    except PackageNotFoundError:
        return f"chalice-devstack {__version__} (not installed: run from source)"
    origin = json.loads(direct)["url"].removeprefix("file://") if direct else "a package index"
    return f"chalice-devstack {__version__} (from {origin})"


class VersionAction(argparse.Action):
    """--version: one unwrapped line (argparse's own wraps a long install path), read only when asked."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        print(version_line())
        parser.exit()


def parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per registered command."""
    import chalice_devstack.tooling  # noqa: F401 - registers package, check, bench, profile and load

    root = argparse.ArgumentParser(
        prog="devstack", description="Run a Chalice project offline: its API and every event source."
    )
    root.add_argument("--version", action=VersionAction, help="print the version and where it came from, then exit")
    root.add_argument("--project", help="a folder inside the Chalice project (default: the current folder)")
    add_subcommands(root, COMMANDS, "command", "run")
    return root


def add_subcommands(
    parser: argparse.ArgumentParser, commands: Mapping[str, tuple[str, Arguments, Any]], dest: str, run_key: str
) -> None:
    """One subparser per command: its help line, its arguments, and its function under `run_key`."""
    subparsers = parser.add_subparsers(dest=dest, required=True, metavar=dest.upper())
    for name, (help_text, arguments, run) in commands.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        arguments(sub)
        sub.set_defaults(**{run_key: run})


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the command."""
    args = parser().parse_args(argv)
    try:
        args.run(args)
    except CommandError as error:
        fail(str(error), error.exit_code)
    except BrokenPipeError:  # `devstack status | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


if __name__ == "__main__":
    main()
