"""Execution environments: each function's invocations run in worker processes devstack keeps warm, as on Lambda.

- An environment (a worker process) serves one function, one invocation at a time, and stays warm
  for the next. When every environment of a function is busy, another starts, up to the function's
  reserved concurrency (Chalice's `reserved_concurrency` in .chalice/config.json). An invocation
  beyond it is throttled, as Lambda throttles it; each trigger sees that its own way (Invoke
  answers 429 TooManyRequestsException, API Gateway 500, an SQS message returns to its queue, a
  stream batch is retried). A function without a reservation shares the account's 1,000 on AWS;
  a laptop has not the cores for that, so it gets `concurrency` environments (the setting, 4 by
  default) and an invocation beyond them waits for one instead of being throttled.
- A new environment imports the app: its cold start. The first invocation's result carries that
  init time (the console line shows `(init 412 ms)`, the log's REPORT line `Init Duration`).
- Workers fork from a multiprocessing forkserver that has imported the app's dependencies once
  (what importing app.py loaded besides the project's own modules, `preload_modules`) and parsed
  botocore's models of the services the project uses (worker_preload), so a cold start costs the
  project's own imports. The forkserver never imports moto and holds no AWS state:
  functions reach AWS over HTTP at AWS_ENDPOINT_URL, as a deployed function does.
- The timeout is enforced: a worker still running at the function's timeout is killed and replaced;
  the invocation fails with Lambda's `Task timed out after N.00 seconds`.
- The memory size, approximately: a worker's address space (RLIMIT_AS) is capped at its size after
  init plus the function's memory size plus MEMORY_SLACK_MB (thread stacks, malloc arenas). An
  allocation beyond fails as Runtime.OutOfMemory and the worker is replaced. Where the OS has no
  such limit (macOS ignores it), there is none.
- A code reload retires every environment: idle ones end at once, busy ones when their invocation ends.
"""

import multiprocessing
import multiprocessing.context
import multiprocessing.popen_forkserver
import multiprocessing.spawn
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from chalice.local import LambdaContext

from chalice_devstack.functions import API_HANDLER, Execution, FunctionError, LocalFunction, execute, peak_memory_mb
from chalice_devstack.functions import timed_out as timed_out_error
from chalice_devstack.invocation_log import OutputCapture
from chalice_devstack.reload import import_app, is_project_file, module_file

DEFAULT_CONCURRENCY = 4  # environments per function without reserved_concurrency (the `concurrency` setting)
INIT_TIMEOUT_SECONDS = 10.0  # Lambda's limit on an environment's init phase
MEMORY_SLACK_MB = 128
PRELOAD_VARIABLE = "DEVSTACK_PRELOAD"  # the modules the forkserver imports (worker_preload reads it)
PRELOAD_SERVICES_VARIABLE = "DEVSTACK_PRELOAD_SERVICES"  # the services whose botocore models it parses
ENDS_ENVIRONMENT = ("Runtime.OutOfMemory", "Runtime.ExitError", "Sandbox.Timedout", "Runtime.ImportModuleError")


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker needs to become one function's environment."""

    root: str
    function: str
    environment: dict[str, str]
    memory_mb: int
    timeout_ms: int


@dataclass(frozen=True)
class Init:
    """A new environment's first message: its init is done, or why it failed."""

    error: FunctionError | None = None


def handler_of(app: Any, name: str) -> Callable[[Any, Any], Any]:
    """A function's handler in an imported app: the app itself for the API."""
    handler: Callable[[Any, Any], Any] = app if name == API_HANDLER else app.handler_map[name]
    return handler


def serve(connection: Connection, spec: WorkerSpec) -> None:
    """A worker's life: init (import the app), then one invocation at a time until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; devstack ends its workers
    for stream in (sys.stdout, sys.stderr):
        # devstack's console is often a pipe (block-buffered): a function's lines must show as it prints them.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(line_buffering=True)
    os.environ.update(spec.environment)
    try:
        handler = handler_of(import_app(Path(spec.root)), spec.function)
    except BaseException as error:  # whatever app.py raised (even SystemExit), Lambda reports it
        message = f"Unable to import module 'app': {type(error).__name__}: {error}"
        connection.send(Init(FunctionError("Runtime.ImportModuleError", message)))
        return
    try:
        connection.send(Init())
    except OSError:  # devstack stopped while this environment started (BrokenPipeError): nothing to report to
        return
    limit_memory(spec.memory_mb)
    output = OutputCapture()
    while True:
        try:
            event, sent = connection.recv()
        except (EOFError, OSError):
            return  # devstack ended this environment (or devstack itself ended)
        execution = execute(handler, event, context_now(sent, spec.timeout_ms), output)
        if "MemoryError" in execution.error_kinds:
            message = f"RequestId: {sent.aws_request_id} Error: Runtime exited with error: out of memory"
            connection.send(replace(execution, error=FunctionError("Runtime.OutOfMemory", message), trace=""))
            return
        connection.send(replace(execution, memory_used_mb=peak_memory_mb()))


def context_now(sent: LambdaContext, timeout_ms: int) -> LambdaContext:
    """The invocation's context as devstack made it, its remaining time counted from now (after any init)."""
    context = LambdaContext(sent.function_name, sent.memory_limit_in_mb, timeout_ms)
    context.__dict__.update({key: value for key, value in vars(sent).items() if not key.startswith("_")})
    return context


def limit_memory(memory_mb: int) -> None:
    """Cap this process's address space at its size now plus memory_mb (and slack); nothing where the OS cannot."""
    import resource

    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (size + (memory_mb + MEMORY_SLACK_MB) * 2**20, hard))
    except (OSError, ValueError):
        return  # no /proc (macOS) or a lower hard limit: run without a cap


def preload_modules(before: Iterable[str], root: Path) -> list[str]:
    """The modules importing the app loaded besides the project's own: what every environment imports first."""
    known = set(before)
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name not in known and not name.startswith("__") and not is_project_file(module_file(module), root)
    )


class MainlessPopen(multiprocessing.popen_forkserver.Popen):
    """Forkserver start without the parent's `__main__`: multiprocessing would re-run the parent's main script
    (the `devstack` launcher, a REPL's `<stdin>`) in every worker; a worker needs none of it."""

    def _launch(self, process_obj: Any) -> None:
        original = multiprocessing.spawn.get_preparation_data

        def without_main(name: str) -> dict[str, Any]:
            return {key: value for key, value in original(name).items() if not key.startswith("init_main")}

        multiprocessing.spawn.get_preparation_data = without_main  # Environments._start holds its lock meanwhile
        try:
            super()._launch(process_obj)  # type: ignore[misc]  # typeshed omits the private hook
        finally:
            multiprocessing.spawn.get_preparation_data = original


class WorkerProcess(multiprocessing.context.ForkServerProcess):
    """A worker forked by the forkserver, without the parent's main module."""

    @staticmethod
    def _Popen(process_obj: Any) -> MainlessPopen:  # noqa: N802 - multiprocessing's name
        return MainlessPopen(process_obj)


class Environment:
    """One worker process serving one function; `init_ms` is None until its init is done."""

    def __init__(self, process: Any, connection: Connection, generation: int, started: float) -> None:
        self.process, self.connection, self.generation = process, connection, generation
        self.started = started  # perf_counter when devstack asked for the fork: init counts from there
        self.init_ms: float | None = None

    def wait_for_init(self) -> FunctionError | None:
        """Wait for the worker's init (forking it, importing the app); the error when it failed."""
        if not self.connection.poll(INIT_TIMEOUT_SECONDS):
            self.kill()
            return FunctionError("Sandbox.Timedout", f"Init phase timed out after {INIT_TIMEOUT_SECONDS:.2f} seconds")
        init: Init = self.connection.recv()
        self.init_ms = (time.perf_counter() - self.started) * 1000
        return init.error

    def end(self) -> None:
        """Close the pipe: an idle worker reads EOF and exits."""
        self.connection.close()

    def kill(self) -> None:
        """Stop the worker now (a timeout, or devstack stopping)."""
        self.connection.close()
        if self.process.is_alive():
            self.process.kill()

    def exit_description(self) -> str:
        """How the worker ended, in Lambda's words: `exit status 1`, `signal: killed`."""
        self.process.join(1.0)
        code = self.process.exitcode
        if code is not None and code < 0:
            return f"signal: {signal.Signals(-code).name.removeprefix('SIG').lower()}"
        return f"exit status {code}"


class Pool:
    """One function's environments: idle ones are reused, new ones start up to the limit."""

    def __init__(self, limit: int, throttles: bool) -> None:
        self.limit, self.throttles = limit, throttles
        self.idle: list[Environment] = []
        self.count = 0
        self._changed = threading.Condition()

    def acquire(self, start: Callable[[], Environment]) -> Environment | None:
        """An idle environment, else a new one within the limit; None (throttled) beyond a reservation."""
        with self._changed:
            while not self.idle and self.count >= self.limit:
                if self.throttles:
                    return None
                self._changed.wait()
            if self.idle:
                return self.idle.pop()
            self.count += 1
        try:
            return start()
        except BaseException:
            self.release(None)
            raise

    def release(self, environment: Environment | None, keep: bool = False) -> None:
        """An invocation is done: keep its environment warm, or end it."""
        with self._changed:
            if environment is not None and keep:
                self.idle.append(environment)
            else:
                self.count -= 1
                if environment is not None:
                    environment.end()
            self._changed.notify()

    def retire(self) -> None:
        """End every idle environment (busy ones end when released with keep=False)."""
        with self._changed:
            for environment in self.idle:
                environment.end()
            self.count -= len(self.idle)
            self.idle.clear()
            self._changed.notify_all()


class Environments:
    """Every function's execution environments: the registry's runtime unless `devstack up --single`."""

    def __init__(
        self,
        root: Path,
        concurrency: int = DEFAULT_CONCURRENCY,
        preload: Iterable[str] = (),
        services: Iterable[str] = (),
    ) -> None:
        self.root, self.concurrency = root, concurrency
        os.environ[PRELOAD_VARIABLE] = ",".join(preload)
        os.environ[PRELOAD_SERVICES_VARIABLE] = ",".join(services)
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["chalice_devstack.worker_preload"])
        self._pools: dict[str, Pool] = {}
        self._lock = threading.Lock()
        self._starting = threading.Lock()  # multiprocessing's bookkeeping of children is not thread-safe
        self.generation = 0

    def warm(self) -> None:
        """Start the forkserver now: it imports the dependencies while devstack does the rest of its start."""
        from multiprocessing import forkserver

        forkserver.ensure_running()

    def run(self, function: LocalFunction, event: Any, context: LambdaContext) -> Execution:
        """Run the handler in one of the function's environments (a new one if none is idle)."""
        pool = self._pool(function)
        environment = pool.acquire(lambda: self._start(function))
        if environment is None:
            return Execution.throttle()
        keep = False
        try:
            execution = self._invoke(environment, function, event, context)
            keep = execution.error is None or execution.error.error_type not in ENDS_ENVIRONMENT
        finally:
            pool.release(environment, keep and environment.generation == self.generation)
        return execution

    def _pool(self, function: LocalFunction) -> Pool:
        with self._lock:
            if function.name not in self._pools:
                reserved = function.reserved_concurrency
                limit = reserved if reserved is not None else self.concurrency
                self._pools[function.name] = Pool(limit, throttles=reserved is not None)
            return self._pools[function.name]

    def _start(self, function: LocalFunction) -> Environment:
        """Fork a worker for the function (it imports the app while the caller waits for its first message)."""
        timeout_ms = function.timeout_seconds * 1000
        spec = WorkerSpec(str(self.root), function.name, dict(function.environment), function.memory_mb, timeout_ms)
        ours, theirs = self._context.Pipe()
        started = time.perf_counter()
        with self._starting:
            process = WorkerProcess(target=serve, args=(theirs, spec), name=f"devstack-{function.name}", daemon=True)
            process.start()
        theirs.close()
        return Environment(process, ours, self.generation, started)

    def _invoke(self, environment: Environment, function: LocalFunction, event: Any, context: Any) -> Execution:
        """Send one invocation and wait for its outcome, at most the function's timeout."""
        connection, cold = environment.connection, environment.init_ms is None
        try:
            if cold and (failed := environment.wait_for_init()) is not None:
                return Execution(error=failed, init_ms=environment.init_ms)
            init_ms = environment.init_ms if cold else None
            connection.send((event, context))
            if not connection.poll(function.timeout_seconds):
                environment.kill()
                return Execution(error=timed_out_error(function), init_ms=init_ms)
            execution: Execution = connection.recv()
            return replace(execution, init_ms=init_ms)
        except (EOFError, OSError):
            why = f"RequestId: {context.aws_request_id} Error: Runtime exited with error: "
            return Execution(error=FunctionError("Runtime.ExitError", why + environment.exit_description()))

    def reload(self) -> None:
        """The code changed: retire every environment, so the next invocations import the new code."""
        with self._lock:
            self.generation += 1
            pools = list(self._pools.values())
        for pool in pools:
            pool.retire()

    def stop(self) -> None:
        """End every idle environment (busy ones end with devstack: their pipe closes)."""
        self.reload()

    def counts(self) -> dict[str, int]:
        """How many environments each function has now (busy and idle)."""
        with self._lock:
            return {name: pool.count for name, pool in self._pools.items()}
