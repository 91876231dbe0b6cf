"""devstack for tests: start it in a child process on free ports, wait until ready, stop it cleanly.

moto keeps its state in process-global backends and a `mock_aws` block in the same process
wipes them, so the devstack under test always runs in a child process.
The pytest plugin's `devstack` fixture wraps `running_devstack()` for a session.

Tokens for a Cognito user pool authorizer (the API `devstack token` uses):

    cognito_token(stack_or_endpoint, username, groups=(), pool=None, region=None) -> str

returns an ID token of `username` in the devstack's user pool (created if needed, in exactly
`groups`); `stack_or_endpoint` is a `Devstack` or the AWS endpoint's URL; `pool` (logical id, id or
name) is needed only when the resources file declares several pools. Problems raise
tokens.TokenError (no devstack answering, no such pool or group).
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from chalice_devstack.project import Project
from chalice_devstack.tokens import TokenError, id_token

READY_LINE = "devstack ready in"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
T = TypeVar("T")


class DevstackError(RuntimeError):
    """The devstack child failed to start or answer; the message carries its last output lines."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers and the JSON body (None when empty, text when not JSON)."""

    status: int
    headers: dict[str, str]
    body: Any


@dataclass
class Devstack:
    """A running devstack: its URLs, boto3 clients for it, and helpers to drive and observe it."""

    endpoint_url: str
    api_url: str
    region: str
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))

    def client(self, service: str) -> Any:
        """A boto3 client for the devstack's AWS endpoint."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id="devstack",
            aws_secret_access_key="devstack",  # noqa: S106 - moto accepts any credentials
            config=Config(account_id_endpoint_mode="disabled", retries={"max_attempts": 2}),
        )

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        """Call the service's HTTP API (chalice local) with a JSON body."""
        return _request(self.api_url, method, path, body, headers)

    def control(self, method: str, path: str, body: Any = None) -> Reply:
        """Call a devstack control route on the AWS endpoint (`/_devstack/...`)."""
        return _request(self.endpoint_url, method, path, body, None)

    def trigger(self, name: str) -> Reply:
        """Fire a schedule on demand (by function name), as `devstack trigger NAME` does."""
        return self.control("POST", f"/_devstack/schedules/{name}")

    def status(self) -> Any:
        """The status view: queue and DLQ depths, executions, recent invocations and errors."""
        return self.control("GET", "/_devstack/status").body

    def wait_until(self, predicate: Callable[[], T], timeout: float = 10.0, interval: float = 0.05) -> T:
        """Poll predicate until it returns something truthy (and return that); fail after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            result = predicate()
            if result:
                return result
            if time.monotonic() >= deadline:
                tail = "\n".join(list(self.output)[-20:])
                raise TimeoutError(f"condition not met within {timeout:.1f}s; devstack output:\n{tail}")
            time.sleep(interval)


def _request(base_url: str, method: str, path: str, body: Any, headers: dict[str, str] | None) -> Reply:
    """One HTTP request on a fresh loopback connection."""
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        payload = None if body is None else (body if isinstance(body, str | bytes) else json.dumps(body))
        connection.request(method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        response = connection.getresponse()
        text = response.read().decode()
        try:
            decoded = json.loads(text) if text else None
        except ValueError:
            decoded = text
        return Reply(response.status, dict(response.getheaders()), decoded)
    finally:
        connection.close()


def cognito_token(
    stack_or_endpoint: "Devstack | str",
    username: str,
    groups: Iterable[str] = (),
    pool: str | None = None,
    region: str | None = None,
) -> str:
    """An ID token for username in the devstack's user pool, created if needed and in exactly `groups`.

    `stack_or_endpoint`: a running Devstack, or its AWS endpoint URL (then `region`, default AWS_REGION).
    `pool`: the pool's logical id, id or name; needed only when there are several. Raises TokenError.
    """
    stack = (
        stack_or_endpoint
        if isinstance(stack_or_endpoint, Devstack)
        else Devstack(stack_or_endpoint, "", region or os.environ.get("AWS_REGION") or "us-east-1")
    )
    try:
        return id_token(stack.client("cognito-idp"), username, groups, pool)
    except EndpointConnectionError:
        raise TokenError(f"no devstack answers on {stack.endpoint_url}; start one with `devstack up`") from None
    except (BotoCoreError, ClientError) as error:
        raise TokenError(f"cannot sign {username} in on {stack.endpoint_url}: {error}") from None


@contextmanager
def running_devstack(
    project: Project,
    stage: str,
    region: str,
    aws_port: int | None = None,
    api_port: int | None = None,
    reload: bool = False,
) -> Iterator[Devstack]:
    """Start `devstack up` in a child process (free ports unless given); yield it once ready; stop it."""
    aws_port, api_port = aws_port or free_port(), api_port or free_port()
    env = {
        **os.environ,
        "DEVSTACK_AWS_PORT": str(aws_port),
        "DEVSTACK_API_PORT": str(api_port),
        "DEVSTACK_STAGE": stage,
        "DEVSTACK_REGION": region,
        "DEVSTACK_RESOURCES": str(project.resources_file),
        "DEVSTACK_RELOAD": str(reload).lower(),  # by default a test runs the code it started with
        "PYTHONUNBUFFERED": "1",
    }
    stack = Devstack(f"http://127.0.0.1:{aws_port}", f"http://127.0.0.1:{api_port}", region)
    child = subprocess.Popen(
        [sys.executable, "-m", "chalice_devstack", "up"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C in the test run reaches pytest, which then stops the child itself
    )
    ready = threading.Event()
    threading.Thread(target=_pump, args=(child, stack.output, ready), daemon=True).start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready.wait(0.05):
            if child.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(stack.output)
                raise DevstackError(f"devstack did not become ready (exit code {child.poll()}):\n{tail}")
        yield stack
    finally:
        _stop(child)


def _pump(child: "subprocess.Popen[str]", output: deque[str], ready: threading.Event) -> None:
    """Keep the child's output (for failure messages) and notice the ready line."""
    assert child.stdout is not None
    for line in child.stdout:
        output.append(line.rstrip())
        if READY_LINE in line:
            ready.set()


def _stop(child: "subprocess.Popen[str]") -> None:
    """Ctrl-C the child (a clean shutdown), then kill it if it has not exited in time."""
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGINT)
    try:
        child.wait(STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
