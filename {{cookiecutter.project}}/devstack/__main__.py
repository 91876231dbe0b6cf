"""`python -m devstack`: up (start everything; Ctrl-C stops it), status, trigger NAME.

    python -m devstack up [--stage dev] [--single]
    python -m devstack status
    python -m devstack trigger daily_report

Ports: DEVSTACK_AWS_PORT (4566) and DEVSTACK_API_PORT (8000); `status` and `trigger` talk
to the running devstack's control routes on the AWS endpoint.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
from typing import Any, NoReturn

from devstack.stack import DEFAULT_API_PORT, DEFAULT_AWS_PORT, DEFAULT_SEED, Settings, Stack, StartError

DEFAULT_REGION = "{{ cookiecutter.aws_region }}"


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one line naming the problem and exit non-zero."""
    print(f"devstack: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def _port(variable: str, default: int) -> int:
    value = os.environ.get(variable) or str(default)
    if not value.isdigit():
        fail(f"{variable}={value!r} is not a port number", 2)
    return int(value)


def up(args: argparse.Namespace) -> None:
    """Start devstack and run until Ctrl-C (or SIGTERM)."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("devstack").setLevel(logging.INFO)
    settings = Settings(
        stage=args.stage,
        region=os.environ.get("AWS_DEFAULT_REGION") or DEFAULT_REGION,
        aws_port=_port("DEVSTACK_AWS_PORT", DEFAULT_AWS_PORT),
        api_port=_port("DEVSTACK_API_PORT", DEFAULT_API_PORT),
        single=args.single,
        seed=os.environ.get("DEVSTACK_SEED", DEFAULT_SEED),
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # A shell starts background jobs with SIGINT ignored; Ctrl-C / kill -INT must still stop us.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    stack = Stack(settings, echo=lambda line: print(line, flush=True))
    try:
        stack.start()
        layout = "one process" if settings.single else "endpoint in a child process"
        print(f"  AWS endpoint  {settings.endpoint_url}  (AWS_ENDPOINT_URL; {layout})", flush=True)
        print(f"  API           http://127.0.0.1:{settings.api_port}", flush=True)
        print(f"  functions     {', '.join(sorted(stack.registry.functions))}", flush=True)
        if stack.seeded:
            print(f"  seeded        {json.dumps(stack.seeded, default=str)}", flush=True)
        print(f"devstack ready in {stack.ready_seconds:.2f}s (stage {settings.stage}; Ctrl-C stops)", flush=True)
        while not stop.wait(0.5):
            pass
    except StartError as error:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        fail(str(error))
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the (sub-second) shutdown
    stack.stop()
    print("devstack stopped", flush=True)
    # Skip interpreter teardown (seconds of module/thread clean-up): everything is already stopped.
    os._exit(0)


def _control(method: str, path: str) -> tuple[int, Any]:
    """Call a control route of the running devstack."""
    import http.client  # here, not at the top: `up` starts the endpoint child before anything heavy

    port = _port("DEVSTACK_AWS_PORT", DEFAULT_AWS_PORT)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request(method, path, headers={"Content-Length": "0"})
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    except ConnectionRefusedError:
        fail(f"no devstack answers on 127.0.0.1:{port}; start it with `make dev`")
    finally:
        connection.close()


def status(_args: argparse.Namespace) -> None:
    """Print queue/DLQ depths, recent executions, recent invocations and errors."""
    from devstack.status import render

    code, body = _control("GET", "/_devstack/status")
    if code != 200:
        fail(f"status: {body.get('message') if isinstance(body, dict) else body}")
    print(render(body))


def trigger(args: argparse.Namespace) -> None:
    """Fire a schedule now; print its outcome; exit 1 when the function failed."""
    code, body = _control("POST", f"/_devstack/schedules/{args.name}")
    if code != 200:
        fail(str(body.get("message") if isinstance(body, dict) else body))
    outcome = "ok" if body["ok"] else f"ERROR {body['error_type']}: {body['error_message']}"
    print(f"{body['function']}: {outcome} in {body['duration_ms']:.1f} ms")
    print(json.dumps(body["payload"], indent=2, default=str))
    if not body["ok"]:
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the command."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description="The service's offline AWS.")
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start devstack (Ctrl-C stops it)")
    start.add_argument("--stage", default=os.environ.get("STAGE", "dev"))
    start.add_argument("--single", action="store_true", help="run the AWS endpoint in this process too")
    start.set_defaults(run=up)
    commands.add_parser("status", help="queue depths, executions, recent invocations").set_defaults(run=status)
    fire = commands.add_parser("trigger", help="fire a schedule now, by function name")
    fire.add_argument("name")
    fire.set_defaults(run=trigger)
    args = parser.parse_args(argv)
    args.run(args)


if __name__ == "__main__":
    main()
