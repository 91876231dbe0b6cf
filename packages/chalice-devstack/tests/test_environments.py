"""Execution environments: functions run in warm worker processes, isolated, limited and throttled as on Lambda.

The runtime test app (tests/apps/runtime) has handlers that keep state in module globals, hold until
released, outlive their timeout or allocate past their memory size. The first tests drive a registry
directly (no AWS needed); the last ones run the app on devstack and see each trigger kind's throttle.
"""

import importlib.util
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalice_devstack.environments import Environments
from chalice_devstack.functions import FunctionRegistry, InProcess
from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, Reply, running_devstack
from tests.conftest import APPS_DIR, TEST_REGION

RUNTIME = APPS_DIR / "runtime"


def runtime_app() -> Any:
    """A fresh import of the runtime app, under a name of its own (other test apps are `app` too)."""
    spec = importlib.util.spec_from_file_location(f"runtime_app_{uuid.uuid4().hex}", RUNTIME / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.app


def registry_with(runtime: Any, lines: list[str] | None = None) -> FunctionRegistry:
    """The runtime app's functions in a registry running them on `runtime`."""
    echo = lines.append if lines is not None else lambda line: None
    return FunctionRegistry(runtime_app(), Project.at(RUNTIME), "dev", TEST_REGION, echo=echo, runtime=runtime)


@pytest.fixture(scope="module")
def environments() -> Iterator[Environments]:
    """Given: execution environments for the runtime app (one forkserver for the module's tests)."""
    runtime = Environments(RUNTIME)
    yield runtime
    runtime.stop()


def at_once(count: int, call: Callable[[int], Any]) -> list[Any]:
    """Call call(0..count-1) on as many threads at once; their results in order."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(call, range(count)))


def remembered(registry: FunctionRegistry, folder: Path, count: int) -> list[Any]:
    """What each of `count` concurrent `remember` invocations read back from the module global it set."""

    def remember(n: int) -> Any:
        return registry.invoke(
            "remember", {"id": f"request-{n}", "folder": str(folder), "count": count}, "test"
        ).payload

    return at_once(count, remember)


def test_concurrent_invocations_in_environments_each_keep_their_own_module_globals(
    environments: Environments, tmp_path: Path
) -> None:
    """Given two invocations that set a module-level correlation id, meet, then read it back,
    When they run at once in execution environments,
    Then each reads its own id: one environment runs one invocation at a time."""
    seen = remembered(registry_with(environments), tmp_path, 2)

    assert seen == ["request-0", "request-1"]


def test_in_one_process_concurrent_invocations_share_module_globals(tmp_path: Path) -> None:
    """Given the same two invocations,
    When they run at once in one process (`--single`),
    Then one reads the other's id: the leak execution environments prevent."""
    seen = remembered(registry_with(InProcess()), tmp_path, 2)

    assert seen[0] == seen[1]


def test_a_new_environment_reports_its_cold_start_and_a_warm_one_is_reused(environments: Environments) -> None:
    """Given a function whose environment counts its invocations,
    When it is invoked twice in a row,
    Then the first is a cold start (init time on the console line) and the second reuses that process."""
    lines: list[str] = []
    registry = registry_with(environments, lines)

    first, second = (registry.invoke("environment", {}, "test") for _ in range(2))

    assert first.init_ms is not None and first.init_ms > 0
    assert "(init " in lines[0] and lines[0].endswith("ok")
    assert "Init Duration:" in first.log_tail
    assert second.init_ms is None and "(init " not in lines[1]
    assert second.payload["pid"] == first.payload["pid"]
    assert second.payload["invocations"] == first.payload["invocations"] + 1


def test_a_function_past_its_timeout_is_ended_and_the_next_invocation_gets_a_new_environment(
    environments: Environments,
) -> None:
    """Given a function with a 1 s timeout that runs longer,
    When it is invoked, then invoked with a quick event,
    Then the first fails as Lambda reports a timeout and the second runs in a new environment."""
    registry = registry_with(environments)

    slow = registry.invoke("sleepy", {}, "test")
    quick = registry.invoke("sleepy", {"quick": True}, "test")

    assert (slow.error_type, slow.error_message) == ("Sandbox.Timedout", "Task timed out after 1.00 seconds")
    assert quick.ok and quick.payload == "awake"
    assert quick.init_ms is not None


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="the memory limit needs Linux's RLIMIT_AS")
def test_memory_past_the_function_size_fails_as_out_of_memory(environments: Environments) -> None:
    """Given a 128 MB function,
    When it allocates 600 MB, then 8 MB,
    Then the first fails as Runtime.OutOfMemory and the second succeeds in a new environment."""
    registry = registry_with(environments)

    hog = registry.invoke("hog", {"mb": 600}, "test")
    modest = registry.invoke("hog", {"mb": 8}, "test")

    assert hog.error_type == "Runtime.OutOfMemory"
    assert modest.ok and modest.payload == 8 and modest.init_ms is not None


def test_a_code_reload_replaces_the_environments(environments: Environments) -> None:
    """Given a warm environment,
    When the registry takes a reloaded app,
    Then the next invocation is a cold start in another process."""
    registry = registry_with(environments)
    warm = registry.invoke("environment", {}, "test")

    registry.reload(runtime_app())
    fresh = registry.invoke("environment", {}, "test")

    assert fresh.init_ms is not None
    assert fresh.payload["pid"] != warm.payload["pid"]


def test_an_invocation_past_the_reserved_concurrency_is_throttled(environments: Environments, tmp_path: Path) -> None:
    """Given `hold` (reserved concurrency 1) busy with one invocation,
    When it is invoked again,
    Then that invocation is throttled without running, and the console line says so."""
    lines: list[str] = []
    registry = registry_with(environments, lines)
    holding = threading.Thread(target=registry.invoke, args=("hold", {"folder": str(tmp_path)}, "test"))
    holding.start()
    try:
        wait_for_file(tmp_path / "started")
        throttled = registry.invoke("hold", {"folder": str(tmp_path)}, "test")
    finally:
        (tmp_path / "release").touch()
        holding.join(10)

    assert throttled.throttled and throttled.error_type == "TooManyRequestsException"
    assert "THROTTLED" in lines[0]


def wait_for_file(path: Path, timeout: float = 10.0) -> None:
    """Wait (short polls) until a handler has left `path`."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.01)


# ---------------------------------------------------------------- on devstack, per trigger kind


@pytest.fixture(scope="module")
def stack() -> Iterator[Devstack]:
    """Given: the runtime app on devstack (functions in execution environments, the default)."""
    with running_devstack(Project.at(RUNTIME), "dev", TEST_REGION) as running:
        yield running


def whoami(stack: Devstack, folder: Path, correlation_id: str, count: int) -> Reply:
    """GET /whoami: the correlation id the module global holds after meeting `count` requests."""
    headers = {"x-correlation-id": correlation_id, "x-meet": str(folder), "x-meet-count": str(count)}
    return stack.api("GET", "/whoami", headers=headers)


def test_concurrent_api_requests_each_get_their_own_correlation_id(stack: Devstack, tmp_path: Path) -> None:
    """Given three API requests that each keep their correlation id in a module global and meet,
    When they arrive at once,
    Then every answer carries its own request's id (in one process most carried another's)."""
    replies = at_once(3, lambda n: whoami(stack, tmp_path, f"corr-{n}", 3))

    assert [reply.body for reply in replies] == [{"correlation_id": f"corr-{n}"} for n in range(3)]


def test_an_api_request_past_the_reserved_concurrency_answers_500_as_api_gateway_does(
    stack: Devstack, tmp_path: Path
) -> None:
    """Given the API function (reserved concurrency 3) busy with three held requests,
    When a fourth request arrives,
    Then API Gateway's answer to a throttled Lambda comes back: 500 Internal server error."""
    headers = {"x-hold": str(tmp_path)}
    with ThreadPoolExecutor(3) as pool:
        held = [
            pool.submit(stack.api, "GET", "/hold", None, {**headers, "x-correlation-id": f"h{n}"}) for n in range(3)
        ]
        try:
            stack.wait_until(lambda: len(list(tmp_path.glob("started-*"))) == 3)
            throttled = whoami(stack, tmp_path / "none", "late", 1)
        finally:
            (tmp_path / "release").touch()
        statuses = [future.result().status for future in held]

    assert (throttled.status, throttled.body) == (500, {"message": "Internal server error"})
    assert statuses == [200, 200, 200]


def test_an_invoke_past_the_reserved_concurrency_answers_429_too_many_requests(stack: Devstack, tmp_path: Path) -> None:
    """Given `hold` (reserved concurrency 1) busy with one Invoke,
    When it is invoked again,
    Then Invoke answers 429 TooManyRequestsException, as Lambda does."""
    lambda_client = stack.client("lambda")
    event = f'{{"folder": "{tmp_path}"}}'
    with ThreadPoolExecutor(1) as pool:
        holding = pool.submit(lambda_client.invoke, FunctionName="hold", Payload=event)
        try:
            stack.wait_until((tmp_path / "started").exists)
            with pytest.raises(ClientError) as throttled:
                lambda_client.invoke(FunctionName="hold", Payload=event)
        finally:
            (tmp_path / "release").touch()
        assert holding.result()["StatusCode"] == 200

    error = throttled.value.response
    assert error["Error"]["Code"] == "TooManyRequestsException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 429


def throttled_lines(stack: Devstack, function: str) -> list[str]:
    """The console lines of a function's throttled invocations."""
    return [line for line in stack.output if f"λ {function} <-" in line and "THROTTLED" in line]


def test_a_throttled_sqs_message_returns_to_its_queue(stack: Devstack) -> None:
    """Given an SQS function with reserved concurrency 0,
    When a message arrives,
    Then it is throttled again and again after each visibility timeout, and stays on the queue."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="runtime-blocked")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="waiting")

    stack.wait_until(lambda: len(throttled_lines(stack, "drain_blocked")) >= 2)

    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    depths = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    assert sum(int(depths[name]) for name in names) == 1


def test_a_throttled_stream_batch_is_retried(stack: Devstack) -> None:
    """Given a DynamoDB stream function with reserved concurrency 0,
    When the table is written,
    Then its batch is throttled and tried again."""
    stack.client("dynamodb").put_item(TableName="runtime-blocked", Item={"id": {"S": "one"}})

    stack.wait_until(lambda: len(throttled_lines(stack, "follow_blocked")) >= 2)
