"""The AWS endpoint (127.0.0.1:4566): moto's server app behind a small WSGI dispatcher.

Routes:
- Lambda's API for the app's functions (devstack.lambda_api): Invoke (RequestResponse, Event,
  DryRun, `--log-type Tail`), ListFunctions, GetFunction, ListEventSourceMappings. A handler error
  answers as Lambda does: 200, `X-Amz-Function-Error: Unhandled`, body `{errorType, errorMessage, ...}`.
- `/_devstack/...`: control routes (`GET health`, `GET status`, `GET functions`, `GET schedule-rules`,
  `POST schedules/{name}` fires a schedule now and answers `{function, ok, payload, ...}`), and the
  browser console under `/_devstack/console/` (chalice_devstack.console; its queue peek is answered
  here, where moto runs).
- EventBridge calls go to moto after the app's schedule rules are put there (devstack.event_rules).
- everything else: moto (every AWS service, `/moto-api/...`). moto's Step Functions
  interpreter is on and `MOTO_PORT` is this endpoint's port, so a state machine's Lambda tasks
  come back to the Invoke route above.

moto's state changes that a poller waits for (a message on a queue, a record on a stream) are
reported to the pollers as they happen (devstack/moto_hooks.py): over a pipe from the child.

Layout: by default the endpoint runs in a child process (`python -m devstack.endpoint`), so
importing moto overlaps with the parent importing the Chalice app and moto's request handling
never holds the API's interpreter lock. The child forwards Invoke and control routes over
loopback to a small control server in the parent (`Control`, which holds the app). Before it
reports ready, the child makes one read-only request per service the project uses (`warm`), so
moto builds those services while the parent is still importing the app, not during provisioning
(devstack/moto_startup.py trims what moto builds). With `--single` the same dispatcher runs in
the parent and calls `Control` directly.
"""

import argparse
import contextlib
import functools
import json
import os
import re
import socket
import sys
import threading
from collections.abc import Callable, Collection, Iterable
from dataclasses import asdict, dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from chalice_devstack import lambda_routes
from chalice_devstack.event_rules import RULES_PATH, ScheduleRuleSync, is_events_request, schedule_rules
from chalice_devstack.launch import pause_collection, resume_collection
from chalice_devstack.moto_direct import DirectCalls

if TYPE_CHECKING:
    from chalice_devstack.lambda_api import LambdaApi
    from chalice_devstack.snapshot import DeferredBackends

HOST = "127.0.0.1"
StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

SCHEDULE_PATH = re.compile(r"^/_devstack/schedules/(?P<name>[^/]+)$")
CONTROL_PREFIX = "/_devstack/"
CONSOLE_PREFIX = "/_devstack/console/"  # chalice_devstack.console: the browser console
PEEK_PATH = CONSOLE_PREFIX + "peek"
SNAPSHOT_PATH = CONTROL_PREFIX + "snapshot"  # POST: pickle moto's backends to the start's snapshot (snapshot.py)
WARM_PATH = CONTROL_PREFIX + "warm"  # POST: warm up now, in the background, if start-up did not (a restore, --single)
# On every answer of devstack's control plane and API: how a command tells a devstack from something else on a port.
MARKER_HEADER = "X-Devstack"
READY = b"ready\n"
POLLED_SERVICES = frozenset({"sqs", "dynamodbstreams", "kinesis", "s3", "sns"})  # what the pollers' set-up calls
# The X-Amz-Target prefixes of the JSON-protocol services the pollers and the functions' data calls use.
POLLED_TARGETS = ("AmazonSQS.", "DynamoDB_20120810.", "DynamoDBStreams_20120810.", "Kinesis_20131202.")
RESTORED = b"restored\n"  # ready, with the state restored from the start's snapshot


def import_moto() -> None:
    """Import moto's server (and devstack's fixes, not applied yet), trimmed by moto_startup."""
    from chalice_devstack import moto_startup

    moto_startup.apply()  # before moto builds its first backend
    import moto.moto_server.werkzeug_app  # noqa: F401 - the import is the point

    from chalice_devstack import moto_fixes, serving  # noqa: F401


def moto_app(services: Collection[str] = (), restoring: bool = False) -> WSGIApp:
    """moto's server app with the Step Functions interpreter on (what `/moto-api/config` sets), fixed for `services`
    (when restoring, but for the services whose backends come back later: `restore` fixes those)."""
    import_moto()
    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from chalice_devstack import moto_fixes

    moto_fixes.apply(services, skip_deferred=restoring)
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    return DirectCalls(DomainDispatcherApplication(create_backend_app))


class Dispatcher:
    """Lambda API and `/_devstack/` requests to the control app; all other requests to moto."""

    def __init__(
        self,
        aws: WSGIApp,
        control: WSGIApp,
        rules: ScheduleRuleSync | None = None,
        snapshot: Path | None = None,
        deferred: "DeferredBackends | None" = None,
        warm_up: Callable[[], None] | None = None,
    ) -> None:
        self.aws, self.control = aws, control
        self.rules = rules if rules is not None else ScheduleRuleSync(aws, control)
        self.snapshot = snapshot  # where POST /_devstack/snapshot pickles moto's backends
        self.deferred = deferred  # backends a restore left until a request needs them (snapshot.DEFERRED_MODULES)
        self.warm_up = warm_up  # what POST /_devstack/warm starts in a thread

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one request."""
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == PEEK_PATH:  # the console reads queue messages here, in the process holding moto
            from chalice_devstack.console.peek import peek_app

            return peek_app(environ, start_response)
        if path == SNAPSHOT_PATH and method == "POST" and self.snapshot is not None:
            return self.save_snapshot(self.snapshot, start_response)
        if path == WARM_PATH and method == "POST":
            if self.warm_up is not None:
                threading.Thread(target=self.warm_up, name="devstack-warm", daemon=True).start()
            start_response("202 Accepted", [("Content-Length", "0")])
            return [b""]
        if path.startswith(CONTROL_PREFIX) or lambda_routes.handles(method, path):
            return self.control(environ, start_response)
        events = is_events_request(environ)
        if self.deferred is not None and needs_deferred_backends(environ):
            self.deferred.restore()
        if events:
            self.rules.ensure()
        return self.aws(environ, start_response)

    @staticmethod
    def save_snapshot(path: Path, start_response: StartResponse) -> Iterable[bytes]:
        """Pickle moto's backends to path (in the process holding moto); answer the size or what failed."""
        from chalice_devstack.snapshot import save_backends

        body: dict[str, Any]
        try:
            status, body = "200 OK", {"bytes": save_backends(path)}
        except Exception as error:  # a backend holding something pickle cannot take: the start goes on without
            status, body = "500 Internal Server Error", {"message": f"{type(error).__name__}: {error}"}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]


class LazyApp:
    """A WSGI app that waits for its real app: lets the socket bind before moto is imported."""

    def __init__(self) -> None:
        self.app: WSGIApp | None = None
        self.ready = threading.Event()

    def set(self, app: WSGIApp) -> None:
        """Install the real app and release waiting requests."""
        self.app = app
        self.ready.set()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Serve with the real app, waiting for it if needed."""
        self.ready.wait()
        assert self.app is not None
        return self.app(environ, start_response)


@dataclass
class Control:
    """The control app: the Lambda API and `/_devstack/` routes, served by the process holding the app.

    Its parts arrive as devstack starts (`registry` after the app is imported, `fire`, `mappings` and
    `status` after provisioning); a route whose part is missing answers 503.
    """

    registry: Any = None  # devstack.functions.FunctionRegistry
    fire: Callable[[str], Any] | None = None  # fire a schedule by name -> InvocationResult
    status: Callable[[], dict[str, Any]] | None = None
    mappings: Any = None  # devstack.pollers.Mappings: what the pollers run
    console: WSGIApp | None = None  # chalice_devstack.console.server.ConsoleApp
    ready: bool = False
    _lambda: "LambdaApi | None" = field(default=None, repr=False)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Route one control request."""
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path.startswith(CONSOLE_PREFIX) and self.console is not None:
            return self.console(environ, start_response)
        try:
            status, headers, body = self.route(method, path, environ)
        except Exception as error:  # the control plane answers, whatever broke
            status, headers, body = 500, {}, {"message": f"{type(error).__name__}: {error}"}
        data = encode(body)
        header_list = [("Content-Type", "application/json"), ("Content-Length", str(len(data))), (MARKER_HEADER, "1")]
        start_response(f"{status} {HTTPStatus(status).phrase}", header_list + list(headers.items()))
        return [data]

    def route(self, method: str, path: str, environ: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        """Answer (status, extra headers, JSON body) for a control path."""
        if path.startswith(lambda_routes.PREFIX):
            if self.registry is None:
                return 503, {"x-amzn-ErrorType": "ServiceException"}, {"message": "devstack is starting"}
            return self.lambda_api().answer(method, path, environ)
        if path == "/_devstack/health":
            return (200 if self.ready else 503), {}, {"ready": self.ready}
        if path == "/_devstack/functions" and self.registry is not None:
            return 200, {}, self.registry.describe()
        if path == RULES_PATH and self.mappings is not None:
            return 200, {}, schedule_rules(self.mappings)
        if path == "/_devstack/status" and self.status is not None:
            return 200, {}, self.status()
        if (match := SCHEDULE_PATH.match(path)) and method == "POST" and self.fire is not None:
            try:
                result = self.fire(unquote(match["name"]))
            except KeyError as error:
                return 404, {}, {"message": error.args[0] if error.args else str(error)}
            return 200, {}, asdict(result)
        if path.startswith(CONTROL_PREFIX) and self.status is None:
            return 503, {}, {"message": "devstack is starting"}
        return 404, {}, {"message": f"no devstack route {method} {path}"}

    def lambda_api(self) -> "LambdaApi":
        """The Lambda API over the registry (built on first use, once the registry exists)."""
        if self._lambda is None:
            from chalice_devstack.lambda_api import LambdaApi

            self._lambda = LambdaApi(self.registry, lambda: self.mappings)
        return self._lambda


def encode(body: Any) -> bytes:
    """A control answer's body: empty for None, as is when already JSON, else JSON."""
    if body is None:
        return b""
    if isinstance(body, lambda_routes.RawJson):
        return body.encode()
    return json.dumps(body, default=str).encode()


# A read-only request per service (signing name, X-Amz-Target, body): moto builds a service's app
# and its backend on the service's first request.
WARM_REQUESTS = {
    "dynamodb": ("dynamodb", "DynamoDB_20120810.ListTables", "{}"),
    "dynamodbstreams": ("dynamodb", "DynamoDBStreams_20120810.ListStreams", "{}"),
    "sqs": ("sqs", "AmazonSQS.ListQueues", "{}"),
    "stepfunctions": ("states", "AWSStepFunctions.ListStateMachines", "{}"),
    "sns": ("sns", None, "Action=ListTopics&Version=2010-03-31"),
    "s3": ("s3", None, ""),  # GET /: ListBuckets
    "cognito-idp": ("cognito-idp", "AWSCognitoIdentityProviderService.ListUserPools", '{"MaxResults": 1}'),
}


def warm(aws: WSGIApp, region: str, services: Iterable[str]) -> dict[str, int]:
    """Make each service's first request in-process, while the parent still imports the app; return the statuses."""
    from chalice_devstack import moto_calls

    statuses = {}
    for service in (name for name in services if name in WARM_REQUESTS):
        signing_name, target, body = WARM_REQUESTS[service]
        # devstack does not need the answer: a request that fails here still warmed what it reached.
        statuses[service] = moto_calls.call(aws, region, signing_name, target, body).status_code
    return statuses


def warm_services(aws: WSGIApp, region: str, services: Iterable[str]) -> None:
    """Build each service moto will serve, and the Step Functions interpreter's clients when a state machine runs."""
    warm(aws, region, services)
    from chalice_devstack import moto_fixes

    moto_fixes.speed_up_step_functions()  # the warm-up loaded the interpreter if the project has a state machine


def needs_deferred_backends(environ: dict[str, Any]) -> bool:
    """False only for a call to a service the pollers use (snapshot.DEFERRED_MODULES reach none of them).

    JSON-protocol services name themselves in X-Amz-Target, the others in their signature's scope
    (`Credential=KEY/DATE/REGION/SERVICE/aws4_request`). Anything else (EventBridge, whose rules may
    start an execution; Cognito's unsigned JWKS) waits for the deferred backends.
    """
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return not target.startswith(POLLED_TARGETS)
    authorization = str(environ.get("HTTP_AUTHORIZATION", ""))
    return not any(f"/{service}/aws4_request" in authorization for service in POLLED_SERVICES)


def restore(snapshot: Path, services: Collection[str]) -> "DeferredBackends | None":
    """Restore moto's backends from the start's snapshot (but the deferred ones, returned); on any failure
    discard the snapshot, fix the deferred services now and return None (the parent provisions)."""
    from chalice_devstack import moto_fixes
    from chalice_devstack.snapshot import restore_backends

    try:
        return restore_backends(snapshot, then=functools.partial(moto_fixes.apply_deferred, services))
    except Exception as error:  # a snapshot from another moto, or a damaged file: provisioning remakes the state
        print(f"devstack: snapshot not restored ({type(error).__name__}: {error}); provisioning", file=sys.stderr)
        snapshot.unlink(missing_ok=True)
        moto_fixes.apply_deferred(services)
        return None


def warm_after_ready(deferred: "DeferredBackends | None", aws: WSGIApp, region: str, services: Iterable[str]) -> None:
    """What an endpoint that did not warm before ready does once asked: the backends a restore deferred, the warm-up."""
    if deferred is not None:
        deferred.restore()
    warm_services(aws, region, services)


def _child_main(argv: list[str] | None = None) -> None:
    """The endpoint as a child process: bind, load and warm moto, tell the parent; serve until stdin closes."""
    parser = argparse.ArgumentParser(prog="python -m devstack.endpoint")
    parser.add_argument("--early", action="store_true", help="import moto, then read the other flags from stdin")
    parser.add_argument("--port", type=int)
    parser.add_argument("--control-port", type=int)
    parser.add_argument("--ready-fd", type=int, required=True)
    parser.add_argument("--wake-fd", type=int, help="a pipe for the pollers' wake-ups (triggers/wakes.py)")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--warm", default="", help="comma-separated boto3 service names to warm up")
    parser.add_argument("--snapshot", type=Path, help="the start's snapshot of moto's backends (snapshot.py)")
    parser.add_argument("--restore", action="store_true", help="restore --snapshot before ready")
    args = parser.parse_args(argv)
    pause_collection()  # until ready: see chalice_devstack.launch
    if args.early:  # chalice_devstack.endpoint_child: moto first, then the settings devstack sends
        import_moto()
        line = sys.stdin.buffer.readline()
        if not line:
            return  # devstack ended (or runs in one process) before it needed us
        sent = json.loads(line)
        os.environ.update(sent["environment"])
        args = parser.parse_args([*(argv if argv is not None else sys.argv[1:]), *sent["flags"]])
    if args.port is None or args.control_port is None:
        parser.error("--port and --control-port are required")
    os.environ["MOTO_PORT"] = str(args.port)  # moto's Step Functions tasks call Lambda here
    from chalice_devstack.serving import Forwarder, bind, serve_in_thread

    lazy = LazyApp()
    try:
        server = bind(lazy, args.port)
    except OSError as error:
        print(f"devstack: cannot listen on {HOST}:{args.port}: {error.strerror}", file=sys.stderr, flush=True)
        sys.exit(2)
    serve_in_thread(server, "endpoint")
    services = args.warm.split(",") if args.warm else []
    aws = moto_app(services, restoring=args.restore)
    if args.wake_fd is not None:
        from chalice_devstack import moto_hooks
        from chalice_devstack.triggers.wakes import pipe_notifier

        moto_hooks.install(pipe_notifier(args.wake_fd))
    deferred = restore(args.snapshot, services) if args.restore else None
    warm_up = None
    if deferred is None:
        warm_services(aws, args.region, services)  # provisioning comes next: warm before it
    else:  # nothing to provision: the services the pollers call now, the rest once the parent asks
        warm(aws, args.region, [service for service in services if service in POLLED_SERVICES])
        warm_up = functools.partial(warm_after_ready, deferred, aws, args.region, services)
    control = Forwarder(args.control_port)
    from chalice_devstack import moto_fixes

    moto_fixes.invoke_tasks_through(control)  # Step Functions' Lambda tasks: the route Lambda requests take
    rules = ScheduleRuleSync(aws, control)
    lazy.set(Dispatcher(aws, control, rules, args.snapshot, deferred, warm_up))
    os.write(args.ready_fd, READY if deferred is None else RESTORED)
    os.close(args.ready_fd)
    resume_collection()
    # The parent holds our stdin: when it exits (even when killed) we read EOF and stop too.
    with contextlib.suppress(KeyboardInterrupt):
        sys.stdin.buffer.read()
    server.shutdown()


def listen(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1:port (0: a free port), for `serving.bind(..., listening=)` to serve later."""
    return socket.create_server((HOST, port))


def port_free(port: int) -> bool:
    """True when nothing listens on 127.0.0.1:port (and we may bind it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole process group; the parent reports it
        _child_main()
