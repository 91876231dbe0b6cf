"""Start and stop the whole devstack: AWS endpoint, provisioning, seed hook, pollers, API.

Start-up order (the default, two-process layout):

1. check the ports, parse the resources file (fail fast, one line each);
2. take a free loopback port for the control server and hand the endpoint child
   (`python -m chalice_devstack.endpoint`) its settings: `devstack up` spawned it before its own imports
   (chalice_devstack.endpoint_child), so it is already importing moto; it binds the AWS port and warms the
   services the resources use;
3. meanwhile import the Chalice app here (the slow parts overlap) and build the registry;
4. once the child reports ready: provision the resources, run the seed hook, have the child save
   a snapshot of that state, start the pollers and the API, check that the API answers, print
   `devstack ready in X.XXs`. When an earlier start with the same inputs saved a snapshot, the
   child restores it instead and steps "provision" and "seed" are skipped (chalice_devstack.snapshot);
5. start the forkserver of the functions' execution environments (chalice_devstack.environments),
   which imports the app's dependencies while the first requests come in. With `--single` the
   functions run in this process instead, on the calling threads.

Seed hook: after provisioning, devstack calls the function named by the `seed` setting
(`module:function`) if that module exists; it runs with the functions' env vars and
AWS_ENDPOINT_URL set, and returns a JSON-able summary. Everything devstack knows about the
project comes through `app.py`, `.chalice/config.json` and the resources file.
"""

import functools
import importlib
import importlib.util
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalice_devstack import endpoint
from chalice_devstack.endpoint_child import DROPPED_VARIABLES
from chalice_devstack.errors import CommandError
from chalice_devstack.intrinsics import Scope
from chalice_devstack.project import Project, ProjectFileError, offline_aws_environment
from chalice_devstack.provision import services_used
from chalice_devstack.settings import Settings

if TYPE_CHECKING:
    from chalice_devstack.snapshot import Snapshot

log = logging.getLogger("devstack")

CHILD_START_TIMEOUT = 30.0
STOP_SECONDS = 0.8


class StartError(CommandError):
    """devstack cannot start; the message is one line naming the problem."""


def local_environment(project: Project, settings: Settings) -> dict[str, str]:
    """The env vars the functions see locally: .chalice/config.json's, plus endpoint, region and fake keys."""
    return {
        **project.function_environment(settings.stage),
        **offline_aws_environment(settings.region, "devstack"),
        "AWS_ENDPOINT_URL": settings.endpoint_url,
    }


@dataclass
class Stack:
    """One running devstack. `start()` returns once everything answers; `stop()` takes under a second."""

    project: Project
    settings: Settings
    echo: Callable[[str], None] = print
    app: Any = None
    registry: Any = None  # chalice_devstack.functions.FunctionRegistry
    scope: Scope | None = None
    template: dict[str, Any] = field(default_factory=dict)
    seeded: Any = None
    ready_seconds: float = 0.0
    restored: bool = False  # the AWS state came from a snapshot of an earlier start (chalice_devstack.snapshot)
    _clients: dict[str, Any] = field(default_factory=dict)
    _clients_lock: threading.Lock = field(default_factory=threading.Lock)
    _servers: list[Any] = field(default_factory=list)
    _child: "subprocess.Popen[bytes] | None" = None
    _pollers: Any = None
    _alarms: Any = None  # chalice_devstack.alarms.AlarmBoard
    _reloader: Any = None  # chalice_devstack.reload.Reloader
    _preload: list[str] = field(default_factory=list)  # what importing the app loaded: the forkserver's imports
    _services: list[str] = field(default_factory=list)  # the AWS services the resources use
    _snapshot: "Snapshot | None" = None  # this start's; None with `snapshot = false`
    _saved: tuple[Scope, Any] | None = None  # the snapshot's scope and seed summary, when it can be restored
    control: endpoint.Control = field(default_factory=endpoint.Control)

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        """Bring everything up (see the module docstring); raise StartError on a problem."""
        began = time.perf_counter()
        settings = self.settings
        for port, flag in ((settings.aws_port, "--aws-port"), (settings.api_port, "--api-port")):
            if not endpoint.port_free(port):
                raise StartError(
                    f"port {port} on {endpoint.HOST} is in use (another devstack?); pick another with {flag}"
                )
        try:
            self.template = self.project.resources()
            os.environ.update(local_environment(self.project, settings))
        except ProjectFileError as error:
            raise StartError(str(error)) from None
        for name in DROPPED_VARIABLES:
            os.environ.pop(name, None)
        services = self._services = services_used(self.template)
        self._find_snapshot()
        ready_child = self._start_endpoint(services)
        from chalice_devstack.moto_startup import share_botocore_loads

        share_botocore_loads()  # the functions' botocore sessions (one per thread with PynamoDB) parse no model twice
        self._import_app()
        from chalice_devstack.functions import FunctionRegistry

        self.registry = FunctionRegistry(
            self.app, self.project, settings.stage, settings.region, echo=self.echo, runtime=self._runtime()
        )
        self.control.registry = self.registry
        # botocore loads the service models while the endpoint loads moto: every service's for provisioning,
        # after a restore only those the pollers call before ready.
        for service in services if self._saved is None else [s for s in services if s in endpoint.POLLED_SERVICES]:
            self.client(service)
        if self._saved is not None:  # the endpoint restores the AWS state: its pollers need no call to plan
            self._plan_pollers(self._saved[0])
        ready_child()
        if self.restored and self._saved is not None:
            self.scope, self.seeded = self._saved
            self._check_user_pools()
        else:
            self._provision()
            self._seed()
            self._save_snapshot()
        if not self.restored:  # planned above from the saved scope only when the endpoint restored it
            assert self.scope is not None
            self._plan_pollers(self.scope)
        self._start_pollers()
        self._start_api()
        self._start_alarms()
        if settings.reload:
            self._start_reloader()
        self.control.status = self.status
        from chalice_devstack.console.server import ConsoleApp

        self.control.console = ConsoleApp(self)
        self.control.ready = True
        self.ready_seconds = time.perf_counter() - began
        # After ready, beside the first requests: warming must not slow the start down.
        threading.Thread(target=self._warm_up, name="devstack-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        """Start the forkserver (it imports the app's dependencies) and have the endpoint warm up if it has not."""
        warm = getattr(self.registry.runtime, "warm", None)
        if warm is not None:
            warm()
        # moto builds its services' apps and Step Functions' clients (a no-op when the endpoint warmed before ready).
        self._endpoint_request(endpoint.WARM_PATH)

    def _runtime(self) -> Any:
        """Where the functions run: execution environments, or this process with --single (None)."""
        if self.settings.single:
            return None
        from chalice_devstack.environments import Environments

        return Environments(self.project.root, self.settings.concurrency, self._preload, self._services)

    def _start_endpoint(self, services: list[str]) -> Callable[[], None]:
        """Start the AWS endpoint (a child warming `services`, or a thread with --single); return a wait-until-ready."""
        settings = self.settings
        os.environ["MOTO_PORT"] = str(settings.aws_port)
        if settings.single:
            from chalice_devstack.endpoint_child import discard_early
            from chalice_devstack.serving import bind

            discard_early()

            lazy = endpoint.LazyApp()
            self._serve(bind(lazy, settings.aws_port), "endpoint")

            def load_moto() -> None:
                from chalice_devstack import moto_fixes, moto_hooks

                snapshot = self._snapshot_file()
                restoring = snapshot is not None and self._saved is not None
                aws = endpoint.moto_app(services, restoring)
                moto_hooks.install()  # moto here tells this process's pollers directly
                deferred = endpoint.restore(snapshot, services) if snapshot is not None and restoring else None
                self.restored = deferred is not None
                # Nothing warms before ready in one process: the parent asks once it is ready.
                warm_up = functools.partial(endpoint.warm_after_ready, deferred, aws, settings.region, services)
                moto_fixes.invoke_tasks_through(self.control)  # Step Functions' Lambda tasks: the Lambda route
                lazy.set(endpoint.Dispatcher(aws, self.control, None, snapshot, deferred, warm_up))

            return load_moto
        from chalice_devstack import endpoint_child

        control_socket = endpoint.listen(0)  # the child needs its port now; its server comes after the spawn
        child = endpoint_child.take()  # spawned as `devstack up` began, when it could be
        self._child = child.process
        environment = {name: value for name, value in os.environ.items() if name.startswith(("AWS_", "MOTO_"))}
        child.configure(
            [
                "--port",
                str(settings.aws_port),
                "--control-port",
                str(control_socket.getsockname()[1]),
                "--region",
                settings.region,
                "--warm",
                ",".join(services),
                *self._snapshot_arguments(),
            ],
            environment,
        )
        read_fd, wake_read_fd = child.ready_fd, child.wake_fd
        from chalice_devstack.triggers.wakes import relay_notices

        relay_notices(wake_read_fd)
        from chalice_devstack.serving import bind  # werkzeug: imported while the child starts, not before

        self._serve(bind(self.control, 0, listening=control_socket), "control")

        def wait_for_child() -> None:
            reader = threading.Thread(target=lambda: box.append(os.read(read_fd, 64)), daemon=True)
            box: list[bytes] = []
            reader.start()
            reader.join(CHILD_START_TIMEOUT)
            os.close(read_fd)
            if not box or box[0] not in (endpoint.READY, endpoint.RESTORED):
                code = self._child.poll() if self._child else None
                raise StartError(f"the AWS endpoint did not start (exit code {code}); see the line above")
            self.restored = box[0] == endpoint.RESTORED

        return wait_for_child

    def _find_snapshot(self) -> None:
        """This start's snapshot (setting `snapshot`), and what it saved when it can be restored."""
        if not self.settings.snapshot:
            return
        from chalice_devstack.snapshot import Snapshot

        settings = self.settings
        self._snapshot = Snapshot.for_start(self.project, settings.stage, settings.region)
        if self._snapshot.exists():
            try:
                self._saved = self._snapshot.read_meta(settings.endpoint_url)
                self._snapshot.meta_file.touch()  # pruning keeps the snapshots used last
            except (OSError, ValueError, KeyError):  # damaged: provision afresh and save a new one
                self._snapshot.discard()

    def _snapshot_file(self) -> Path | None:
        """Where the endpoint pickles moto's backends (None: no snapshots)."""
        return self._snapshot.backends_file if self._snapshot is not None else None

    def _snapshot_arguments(self) -> list[str]:
        """The endpoint child's snapshot flags: where to save, and whether to restore first."""
        if self._snapshot is None:
            return []
        return ["--snapshot", str(self._snapshot.backends_file), *(["--restore"] if self._saved else [])]

    def _save_snapshot(self) -> None:
        """Have the endpoint pickle the provisioned and seeded state, then save the scope beside it."""
        if self._snapshot is None or self.scope is None:
            return
        status, body = self._endpoint_request(endpoint.SNAPSHOT_PATH)
        if status != 200:
            self.echo(f"warning: no start-up snapshot saved: {body.decode(errors='replace')}")
            return
        self._snapshot.write_meta(self.scope, self.seeded, self.settings.endpoint_url)

    def _endpoint_request(self, path: str) -> tuple[int, bytes]:
        """POST to one of the endpoint's own routes; its status and body."""
        import http.client

        connection = http.client.HTTPConnection(endpoint.HOST, self.settings.aws_port, timeout=30)
        try:
            connection.request("POST", path)
            answer = connection.getresponse()
            return answer.status, answer.read()
        finally:
            connection.close()

    def _import_app(self) -> None:
        """Import app.py the way Lambda does; a failure is one line naming the file and line."""
        from chalice_devstack.environments import preload_modules
        from chalice_devstack.reload import import_app, import_failure

        before = set(sys.modules)
        try:
            self.app = import_app(self.project.root)
        except Exception as error:
            raise StartError(import_failure(error, self.project.root)) from None
        self._preload = preload_modules(before, self.project.root)

    def _start_reloader(self) -> None:
        """Reload the functions when their source changes (the `reload` setting; `up --no-reload` turns it off)."""
        from chalice_devstack.reload import Reloader

        self._reloader = Reloader(self.registry, self.project.root, self.echo)
        self._reloader.start()

    def _provision(self) -> None:
        from chalice_devstack.provision import provision

        try:
            self.scope = provision(
                self.client,
                self.project,
                self.settings.stage,
                self.settings.region,
                self.template,
                self.registry.attributes(),
            )
        except ProjectFileError as error:
            raise StartError(str(error)) from None
        self._check_user_pools()

    def _check_user_pools(self) -> None:
        """Say which user pools the app's authorizers name but the resources file does not provision."""
        from chalice_devstack.authorizers import unknown_user_pools
        from chalice_devstack.provision import user_pool_arns

        assert self.scope is not None
        for line in unknown_user_pools(self.app, user_pool_arns(self.template, self.scope)):
            self.echo(f"warning: {line}")

    def _seed(self) -> None:
        """Run the project's seed hook (`seed` setting, `module:function`) when that module exists."""
        module_name, _, function = self.settings.seed.partition(":")
        if not module_name or importlib.util.find_spec(module_name.split(".")[0]) is None:
            return
        try:
            if importlib.util.find_spec(module_name) is None:
                return
            self.seeded = getattr(importlib.import_module(module_name), function or "seed_all")()
        except Exception as error:
            raise StartError(f"seed hook {self.settings.seed} failed: {type(error).__name__}: {error}") from None

    def _plan_pollers(self, scope: Scope) -> None:
        """The app's event sources and their pollers, not started: no AWS call (while the endpoint still starts)."""
        from chalice_devstack.pollers import Pollers, TriggerError, discover

        cap = self.settings.max_batching_window
        mappings = discover(self.app, self.template, scope, self.settings.stage).with_batching_window_cap(cap)
        try:
            self._pollers = Pollers(mappings, self.registry, self.client, self.settings.region)
        except TriggerError as error:  # a schedule expression AWS would refuse
            raise StartError(str(error)) from None

    def _start_pollers(self) -> None:
        """Run the app's event sources; refuse (one line) a trigger AWS would refuse to create."""
        from chalice_devstack.pollers import TriggerError, check_visibility

        mappings = self._pollers.mappings
        cap = self.settings.max_batching_window
        if cap is not None:
            self.echo(f"batching windows capped at {cap:g} s (max_batching_window): batches go sooner than on AWS")
        try:
            check_visibility(mappings.queues, self._timeout_of, self.client("sqs"))
            self._pollers.start()
        except TriggerError as error:
            raise StartError(str(error)) from None
        self.control.fire = self._pollers.fire
        self.control.mappings = mappings  # the Lambda API's list-event-source-mappings and the schedule rules

    def _start_alarms(self) -> None:
        """Read the resources file's alarms and take their first states (devstack evaluates what it can)."""
        from chalice_devstack.alarms import AlarmBoard, Readers, alarms_of

        assert self.scope is not None
        self._alarms = AlarmBoard(alarms_of(self.template, self.scope), Readers(self.client, self._iterator_ages))
        # Their first states, off the start's path: a reading is a few AWS calls per alarm.
        threading.Thread(target=self._alarms.evaluate, name="devstack-alarms", daemon=True).start()

    def _iterator_ages(self, function_name: str) -> list[tuple[float, float]]:
        """The stream pollers' IteratorAge samples for one function (by its deployed name)."""
        pollers = self._pollers.pollers if self._pollers is not None else []
        return [
            sample
            for poller in pollers
            if getattr(poller, "iterator_ages", None) is not None
            and poller.mapping.function_arn.rsplit(":", 1)[-1] == function_name
            for sample in list(poller.iterator_ages)
        ]

    def _timeout_of(self, function: str) -> int:
        """A function's timeout in seconds, as .chalice/config.json gives it (Chalice's default 60)."""
        return int(self.registry.resolve(function).timeout_seconds)

    def _start_api(self) -> None:
        from chalice_devstack.api import create_server

        try:
            server = create_server(self.registry, self.settings.api_port, self.settings.stage)
        except OSError as error:
            raise StartError(f"cannot serve the API on port {self.settings.api_port}: {error.strerror}") from None
        self._serve(server.server, "api")
        import http.client  # here, not at the top: `up` starts the endpoint child before anything heavy

        connection = http.client.HTTPConnection(endpoint.HOST, self.settings.api_port, timeout=5)
        try:
            connection.request("HEAD", "/_devstack_ready_probe")
            connection.getresponse().read()
        finally:
            connection.close()

    def _serve(self, server: Any, name: str) -> None:
        from chalice_devstack.serving import serve_in_thread  # every caller runs after the endpoint child is started

        self._servers.append(server)
        serve_in_thread(server, name)

    # ------------------------------------------------------------------ running

    @property
    def pollers(self) -> Any:
        """The running event sources (chalice_devstack.pollers.Pollers; None before they start), for the console."""
        return self._pollers

    @property
    def console_url(self) -> str:
        """The browser console's address (chalice_devstack.console)."""
        return f"{self.settings.endpoint_url}{endpoint.CONSOLE_PREFIX}"

    def client(self, service: str) -> Any:
        """A cached boto3 client for the endpoint (thread-safe: created once under a lock)."""
        with self._clients_lock:
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                self._clients[service] = boto3.client(
                    service,
                    endpoint_url=self.settings.endpoint_url,
                    region_name=self.settings.region,
                    config=Config(retries={"max_attempts": 2}, max_pool_connections=32),
                )
            return self._clients[service]

    def status(self, limit: int = 10) -> dict[str, Any]:
        """The status view's data (chalice_devstack.status), `limit` of each list (the console asks for more)."""
        from chalice_devstack.status import status

        assert self.scope is not None
        recent = self.registry.recent() if self.registry else []
        data = status(self.client, self.template, self.scope, recent, limit)
        data["alarms"] = self._alarms.evaluate() if self._alarms is not None else []
        return data

    # ------------------------------------------------------------------ stop

    def stop(self) -> None:
        """Stop pollers, servers and the endpoint child, within about a second."""
        self.control.ready = False
        if self._reloader is not None:
            self._reloader.stop()
        if self._pollers is not None:
            self._pollers.stop(0.5)
        if self.registry is not None:
            self.registry.runtime.stop()
        for server in self._servers:
            threading.Thread(target=server.shutdown, daemon=True).start()
        child = self._child
        if child is not None and child.poll() is None:
            try:
                if child.stdin:
                    child.stdin.close()  # the child exits on EOF
                child.wait(STOP_SECONDS / 2)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            except OSError:
                child.kill()
