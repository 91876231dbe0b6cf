"""The Chalice app's Lambda functions, invoked offline the way Lambda invokes them.

Contract (used by the endpoint's Invoke route, the pollers and the status view):

- `FunctionRegistry(app, project, stage, region)` knows every function of the app: the API handler
  (`api_handler`, the app object itself), `lambda_function`s and every event source handler
  (`on_sqs_message`, `on_dynamodb_record`, `schedule`, ...), as Chalice registers them in
  `app.handler_map`. A function is found by its Chalice name (`handle_order_messages`), its
  CloudFormation logical id (`HandleOrderMessages`), its physical name
  (`<app>-<stage>-<name>`) or its local ARN (`arn:aws:lambda:<region>:123456789012:function:<physical>`,
  a `:qualifier` suffix is ignored).
- `invoke(name_or_arn, event, trigger) -> InvocationResult` runs the handler synchronously
  with a realistic `LambdaContext` (function name, ARN, request id, memory, remaining time from
  the timeout in .chalice/config.json). It never raises for a handler error: the result carries
  `error_type` / `error_message` as Lambda reports them. Thread-safe; invocations run
  concurrently. Each one prints a console line and lands in a bounded ring (`recent()`).
  A batch trigger passes its `items`: the result then counts the records that failed and why
  (`failed_items`, `failure_reason`; the line reads `k of n failed: ...`, chalice_devstack.outcomes).
- `reload(app)` takes a freshly imported app's functions (chalice_devstack.reload).
- `attributes()` gives every function's `{Ref, Arn}` by logical id, so resources.yaml
  intrinsics such as `{"Fn::GetAtt": [ReserveInventory, Arn]}` resolve to local ARNs.

Where handlers run (the registry's `runtime`): by default in execution environments, worker
processes that devstack keeps warm, one invocation at a time each, as Lambda runs them
(chalice_devstack.environments: cold starts, reserved concurrency and throttling, timeouts, memory).
`InProcess` runs them on the calling thread of this process (`devstack up --single`, and a registry
made without a runtime): a breakpoint in a handler stops there, but concurrent invocations share
the module globals. Chalice keeps the request being handled on the app object
(`app.current_request`, `app.lambda_context`), so the registry makes those two per thread:
without that, two concurrent API calls could read each other's headers and body.

Console: every invocation prints one line (function, trigger, outcome). An unexpected error also
prints its traceback; an expected one does not, so real bugs stand out. "Expected" is generic:
an error whose type name (or a base class's name) is one the project declares as an outcome it
handles, i.e. a name in its state machines' Retry/Catch `ErrorEquals` lists (Step Functions
retries or routes it, so raising it is the function's contract) or in `[tool.devstack]
expected_errors`. What Invoke returns (errorType, errorMessage, stackTrace, the log tail) is the
same for both.

Env vars: the process runs with the stage's env vars (.chalice/config.json, global < stage);
a function whose own `environment_variables` differ gets them in its environments; in process, set
around its invocation, one such invocation at a time (os.environ is process-wide; settings cached at
import keep theirs).
"""

import decimal
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from chalice.app import Chalice
from chalice.local import LambdaContext

from chalice_devstack.invocation_log import OutputCapture, lambda_log, tail
from chalice_devstack.outcomes import describe, failure_reasons, summarize_reasons
from chalice_devstack.project import LOCAL_ACCOUNT_ID, Project, ProjectFileError, app_functions, logical_id

if TYPE_CHECKING:  # the triggers import chalice.utils, which the endpoint child (it imports this module) never needs
    from chalice_devstack.triggers.base import BatchItems

API_HANDLER = "api_handler"
API_LOGICAL_ID = "APIHandler"  # what `chalice package` calls the API function
API_HANDLER_STRING = "app.app"
RECENT_INVOCATIONS = 200
DEFAULT_TIMEOUT_SECONDS = 60  # Chalice's default lambda_timeout
DEFAULT_MEMORY_MB = 128
STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")


class FunctionNotFound(KeyError):
    """No function of the app has that name, physical name or ARN."""


@dataclass(frozen=True)
class LocalFunction:
    """One Lambda function of the app: names, handler and configuration."""

    name: str
    logical_id: str
    physical_name: str
    arn: str
    handler: Callable[[Any, Any], Any]
    handler_string: str  # the Lambda Handler setting, e.g. app.app or app.on_message
    timeout_seconds: int
    memory_mb: int
    variables: dict[str, str]  # every env var Chalice gives it
    environment: dict[str, str]  # only the vars that differ from the stage's
    reserved_concurrency: int | None = None  # Chalice's reserved_concurrency: a hard limit, throttled beyond


@dataclass(frozen=True)
class FunctionError:
    """A function error as Lambda reports it: type, message and the formatted stack."""

    error_type: str
    message: str
    stack: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, error: BaseException) -> "FunctionError":
        """The error a handler raised, with its stack minus devstack's own frame."""
        frames = traceback.extract_tb(error.__traceback__)[1:]
        return cls(type(error).__name__, str(error), traceback.format_list(frames))


@dataclass(frozen=True)
class InvocationResult:
    """The outcome of one invocation, as Lambda would report it."""

    function: str
    trigger: str
    ok: bool
    payload: Any
    error_type: str | None
    error_message: str | None
    duration_ms: float
    request_id: str
    batch_size: int | None = None
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    stack_trace: list[str] = field(default_factory=list)
    log_tail: str = ""  # the last 4 KB of the invocation's log: Invoke's LogResult
    failed_items: int = 0  # records of a batch that failed: Lambda redelivers them (or gives up on them)
    failure_reason: str | None = None  # why they failed, when the function reported them instead of raising
    init_ms: float | None = None  # a cold start: the new environment's init (importing the app)
    throttled: bool = False  # no environment free within the reserved concurrency: the handler never ran

    def lambda_error(self) -> dict[str, Any]:
        """The error body Lambda's Invoke API returns with X-Amz-Function-Error."""
        return {
            "errorMessage": self.error_message,
            "errorType": self.error_type,
            "requestId": self.request_id,
            "stackTrace": self.stack_trace,
        }


def _lambda_default(value: Any) -> Any:
    """What Lambda's Python runtime does with a value json cannot encode: Decimal becomes a number."""
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def lambda_json(payload: Any) -> str:
    """A handler's return value as Lambda's runtime serialises it (TypeError/ValueError when it cannot)."""
    return json.dumps(payload, default=_lambda_default)


def marshal_error(payload: Any) -> FunctionError | None:
    """The Runtime.MarshalError Lambda reports for a return value it cannot serialise, else None."""
    try:
        lambda_json(payload)
    except (TypeError, ValueError) as error:
        return FunctionError("Runtime.MarshalError", f"Unable to marshal response: {error}")
    return None


THROTTLE_MESSAGE = "Rate Exceeded."


@dataclass(frozen=True)
class Execution:
    """What running a handler once gave: payload or error, its output, and what its environment adds."""

    payload: Any = None
    error: FunctionError | None = None
    output: str = ""
    reasons: list[str] = field(default_factory=list)  # why a batch processor failed records (outcomes.py)
    error_kinds: tuple[str, ...] = ()  # the error's type name and its base classes' names
    trace: str = ""  # the error's formatted traceback, for the console
    init_ms: float | None = None
    memory_used_mb: int = 0
    throttled: bool = False

    @classmethod
    def throttle(cls) -> "Execution":
        """The handler never ran: every environment the function may have is busy."""
        return cls(error=FunctionError("TooManyRequestsException", THROTTLE_MESSAGE), throttled=True)


class Runtime(Protocol):
    """Where a function's handler runs: this process (InProcess) or execution environments."""

    def run(self, function: LocalFunction, event: Any, context: LambdaContext) -> Execution:
        """Run the handler once; report what it gave (never raises for a handler error)."""
        ...

    def reload(self) -> None:
        """The project's code changed: the next invocations run the new code."""
        ...

    def stop(self) -> None:
        """Release what the runtime holds."""
        ...


def peak_memory_mb() -> int:
    """This process's peak resident memory in MB: Lambda's Max Memory Used."""
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)


def execute(handler: Callable[[Any, Any], Any], event: Any, context: Any, output: OutputCapture) -> Execution:
    """Call a handler with its output captured; any exception, or a payload Lambda cannot serialise, is its error."""
    with output.capture() as captured, failure_reasons() as reasons:
        try:
            payload = handler(event, context)
        except Exception as error:  # Lambda reports any exception as an Unhandled function error
            kinds = tuple(kind.__name__ for kind in type(error).__mro__)
            trace = "".join(traceback.format_exception(error)).rstrip()
            failure = FunctionError.of(error)
            return Execution(error=failure, output=captured.getvalue(), reasons=reasons, error_kinds=kinds, trace=trace)
    failed = marshal_error(payload)
    return Execution(payload=None if failed else payload, error=failed, output=captured.getvalue(), reasons=reasons)


class InProcess:
    """Handlers run on the calling thread of this process (`--single`): breakpoints work, globals are shared."""

    def __init__(self) -> None:
        self._env_lock = threading.Lock()
        self._output = OutputCapture()

    def run(self, function: LocalFunction, event: Any, context: LambdaContext) -> Execution:
        """Run the handler here, with the function's own env vars around it."""
        clock = time.perf_counter()
        with self._environment(function):
            execution = execute(function.handler, event, context, self._output)
        if execution.error is None and time.perf_counter() - clock > function.timeout_seconds:
            # A thread cannot be stopped; report what Lambda would have, after the fact.
            return replace(execution, payload=None, error=timed_out(function))
        return replace(execution, memory_used_mb=peak_memory_mb())

    @contextmanager
    def _environment(self, function: LocalFunction) -> Iterator[None]:
        """Apply a function's own env vars around its invocation (serialised: os.environ is shared)."""
        if not function.environment:
            yield
            return
        with self._env_lock:
            saved = {key: os.environ.get(key) for key in function.environment}
            os.environ.update(function.environment)
            try:
                yield
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value

    def reload(self) -> None:
        """Nothing to do: the registry hands over the new handlers."""

    def stop(self) -> None:
        """Nothing to release."""


def timed_out(function: LocalFunction) -> FunctionError:
    """The error Lambda reports for an invocation that outlived the function's timeout."""
    return FunctionError("Sandbox.Timedout", f"Task timed out after {function.timeout_seconds:.2f} seconds")


class PerThread:
    """A data descriptor whose value is per thread: each thread sees only what it set itself."""

    def __init__(self) -> None:
        self._local = threading.local()

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    def __get__(self, instance: object, owner: type | None = None) -> Any:
        if instance is None:
            return self
        return getattr(self._local, self._name, None)

    def __set__(self, instance: object, value: Any) -> None:
        setattr(self._local, self._name, value)


def with_per_thread_request(app: Chalice) -> Chalice:
    """Give app a per-thread current_request and lambda_context (one app, concurrent invocations)."""
    if not isinstance(type(app).__dict__.get("current_request"), PerThread):
        # A subclass of the app's own class, so only this app object changes behaviour.
        namespace = {"current_request": PerThread(), "lambda_context": PerThread()}
        app.__class__ = type(f"PerThread{type(app).__name__}", (type(app),), namespace)
    return app


class FunctionRegistry:
    """Every function of a Chalice app, resolvable by name or ARN, invocable like Lambda."""

    def __init__(
        self,
        app: Chalice,
        project: Project,
        stage: str,
        region: str,
        echo: Callable[[str], None] | None = None,
        expected_errors: Iterable[str] | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.app, self.project, self.stage, self.region = with_per_thread_request(app), project, stage, region
        self.runtime: Runtime = runtime if runtime is not None else InProcess()
        self.echo = echo if echo is not None else _print
        # None: the project's own declaration (its state machines and [tool.devstack] expected_errors).
        self.expected_errors = frozenset(
            expected_errors if expected_errors is not None else project_expected_errors(project)
        )
        self.functions: dict[str, LocalFunction] = {}
        self._aliases: dict[str, str] = {}
        self._recent: deque[InvocationResult] = deque(maxlen=RECENT_INVOCATIONS)
        self._lock = threading.Lock()
        base_env = project.function_environment(stage)
        self._add(API_HANDLER, app, API_HANDLER_STRING, base_env)
        for name, handler_string in function_sources(app):
            if name in app.handler_map:
                self._add(name, app.handler_map[name], handler_string, base_env)

    def _add(
        self, name: str, handler: Callable[[Any, Any], Any], handler_string: str, base_env: dict[str, str]
    ) -> None:
        physical = f"{self.app.app_name}-{self.stage}-{name}"
        env = self.project.function_environment(self.stage, name)
        reserved = self.project.function_setting(self.stage, name, "reserved_concurrency", None)
        function = LocalFunction(
            name=name,
            logical_id=API_LOGICAL_ID if name == API_HANDLER else logical_id(name),
            physical_name=physical,
            arn=f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{physical}",
            handler=handler,
            handler_string=handler_string,
            timeout_seconds=int(
                self.project.function_setting(self.stage, name, "lambda_timeout", DEFAULT_TIMEOUT_SECONDS)
            ),
            memory_mb=int(self.project.function_setting(self.stage, name, "lambda_memory_size", DEFAULT_MEMORY_MB)),
            variables=env,
            environment={key: value for key, value in env.items() if base_env.get(key) != value},
            reserved_concurrency=reserved if reserved is None else int(reserved),
        )
        self.functions[name] = function
        for alias in (name, function.logical_id, physical, function.arn):
            self._aliases[alias] = name
        if name == API_HANDLER:
            self._aliases[f"{self.app.app_name}-{self.stage}"] = name  # chalice deploy's name for it

    def resolve(self, name_or_arn: str) -> LocalFunction:
        """Find a function by Chalice name, logical id, physical name or (qualified) ARN."""
        key = name_or_arn
        if key.startswith("arn:") and key.count(":") > 6:
            key = key.rsplit(":", 1)[0]  # drop a version/alias qualifier
        if key not in self._aliases and key.startswith("arn:"):
            key = key.rsplit(":", 1)[-1]  # an ARN from another region/account: match the name
        try:
            return self.functions[self._aliases[key]]
        except KeyError:
            known = ", ".join(sorted(self.functions))
            raise FunctionNotFound(f"no function {name_or_arn!r} (functions: {known})") from None

    def reload(self, app: Chalice) -> tuple[list[str], list[str]]:
        """Take the functions of a freshly imported app (the next invocations run them); return (added, removed)."""
        fresh = FunctionRegistry(
            app, self.project, self.stage, self.region, self.echo, self.expected_errors, self.runtime
        )
        added, removed = (
            sorted(fresh.functions.keys() - self.functions.keys()),
            sorted(self.functions.keys() - fresh.functions.keys()),
        )
        self.app, self.functions, self._aliases = fresh.app, fresh.functions, fresh._aliases
        self.runtime.reload()
        return added, removed

    def attributes(self) -> dict[str, dict[str, str]]:
        """`{Ref, Arn}` of every function by logical id: the Scope seed for resources.yaml intrinsics."""
        return {f.logical_id: {"Ref": f.physical_name, "Arn": f.arn} for f in self.functions.values()}

    def describe(self) -> list[dict[str, Any]]:
        """Every function as JSON-ready data (name, physical name, ARN, timeout, memory)."""
        return [
            {
                "name": f.name,
                "logical_id": f.logical_id,
                "physical_name": f.physical_name,
                "arn": f.arn,
                "timeout_seconds": f.timeout_seconds,
                "memory_mb": f.memory_mb,
            }
            for f in self.functions.values()
        ]

    def invoke(self, name_or_arn: str, event: Any, trigger: str, items: "BatchItems | None" = None) -> InvocationResult:
        """Run a function synchronously with a Lambda context; report its outcome (never raises for it).

        `items`: the batch a trigger hands over, so the outcome counts the records that failed.
        """
        function = self.resolve(name_or_arn)
        context = self.context(function)
        started, clock = datetime.now(UTC), time.perf_counter()
        execution = self.runtime.run(function, event, context)
        duration = (time.perf_counter() - clock) * 1000 - (execution.init_ms or 0)
        error = execution.error
        if error is not None and execution.trace and not self.is_expected(execution.error_kinds):
            self.echo(execution.trace)
        summary = f"{error.error_type}: {error.message}\n{''.join(error.stack)}" if error else None
        log = lambda_log(
            context.aws_request_id,
            execution.output,
            summary,
            duration,
            function.memory_mb,
            execution.memory_used_mb,
            execution.init_ms,
        )
        records = event.get("Records") if isinstance(event, dict) else None
        result = InvocationResult(
            function=function.name,
            trigger=trigger,
            ok=error is None,
            payload=execution.payload,
            error_type=error.error_type if error else None,
            error_message=error.message if error else None,
            duration_ms=round(max(duration, 0.0), 2),
            request_id=context.aws_request_id,
            batch_size=len(records) if isinstance(records, list) else None,
            started=started,
            stack_trace=error.stack if error else [],
            log_tail="" if execution.throttled else tail(log),
            init_ms=None if execution.init_ms is None else round(execution.init_ms, 1),
            throttled=execution.throttled,
        )
        if items is not None:
            result = replace(result, **batch_failures(result, items, execution.reasons))
        with self._lock:
            self._recent.append(result)
        self.echo(console_line(result))
        return result

    def is_expected(self, kinds: Iterable[str]) -> bool:
        """Whether an error (its type's and base classes' names) is an outcome the project declares (one line)."""
        return any(kind in self.expected_errors for kind in kinds)

    def context(self, function: LocalFunction) -> LambdaContext:
        """A fresh Lambda context for one invocation of function."""
        context = LambdaContext(function.physical_name, function.memory_mb, function.timeout_seconds * 1000)
        context.aws_request_id = str(uuid.uuid4())
        context.invoked_function_arn = function.arn
        context.log_group_name = f"/aws/lambda/{function.physical_name}"
        context.log_stream_name = f"{datetime.now(UTC):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        return context

    def recent(self) -> list[InvocationResult]:
        """The last invocations, oldest first."""
        with self._lock:
            return list(self._recent)


def project_expected_errors(project: Project) -> set[str]:
    """Error names the project declares as outcomes: its state machines' ErrorEquals and the setting."""
    from chalice_devstack.settings import SettingsError, load_settings  # settings imports project too

    try:
        declared = set(load_settings(project.root).expected_errors)
    except SettingsError:
        declared = set()  # `devstack up` reports a bad setting itself; the console stays verbose
    try:
        resources = project.resources().get("Resources") or {}
    except ProjectFileError:
        return declared
    for resource in resources.values():
        if isinstance(resource, dict) and resource.get("Type") in STATE_MACHINE_TYPES:
            declared |= state_machine_error_names(project, resource.get("Properties") or {})
    return declared


def state_machine_error_names(project: Project, properties: dict[str, Any]) -> set[str]:
    """The ErrorEquals names of one state machine's Retry/Catch rules, minus Step Functions' own States.*."""
    definition: Any = properties.get("Definition")
    try:
        if isinstance(properties.get("DefinitionUri"), str):  # project-relative, as provisioning reads it
            definition = json.loads((project.root / properties["DefinitionUri"]).read_text())
        elif isinstance(properties.get("DefinitionString"), str):
            definition = json.loads(properties["DefinitionString"])
    except (OSError, ValueError):
        return set()  # provisioning reports an unreadable definition
    names: set[str] = set()
    pending = [definition]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for rule in [*_rules(node.get("Retry")), *_rules(node.get("Catch"))]:
                names |= {name for name in rule.get("ErrorEquals", []) if isinstance(name, str)}
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    # States.ALL, States.TaskFailed... match any error: they say nothing about which ones are expected.
    return {name for name in names if not name.startswith("States.")}


def _rules(value: Any) -> list[dict[str, Any]]:
    return [rule for rule in value if isinstance(rule, dict)] if isinstance(value, list) else []


def function_sources(app: Chalice) -> list[tuple[str, str]]:
    """(name, handler string) of every Lambda function besides the API handler: built-in authorizers too."""
    sources = [*app_functions(app), *app.builtin_auth_handlers]
    return [(source.name, source.handler_string) for source in sources]


def batch_failures(result: InvocationResult, items: "BatchItems", reasons: list[str]) -> dict[str, Any]:
    """How many records of the batch failed, and why (a raised error speaks for itself)."""
    from chalice_devstack.triggers.base import failed_item_ids

    failed = failed_item_ids(result, items.ids, items.report_item_failures)
    if failed is None:
        why = None if not result.ok else "batchItemFailures names an item not in the batch: the whole batch failed"
        return {"failed_items": len(items.ids), "failure_reason": why}
    return {"failed_items": len(failed), "failure_reason": summarize_reasons(reasons) if failed else None}


def console_line(result: InvocationResult) -> str:
    """One line per invocation: time, function, trigger, batch size, duration, outcome."""
    batch = f" [{result.batch_size}]" if result.batch_size is not None else ""
    when = result.started.astimezone().strftime("%H:%M:%S")
    init = f" (init {result.init_ms:.0f} ms)" if result.init_ms is not None else ""
    timing = f"{result.duration_ms:.1f} ms{init}"
    return f"{when} λ {result.function} <- {result.trigger}{batch} {timing} {describe(vars(result))}"


def _print(line: str) -> None:
    # One write: print() writes the text and the newline separately, and a concurrent invocation's
    # log line could land between them, merging two lines.
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()
