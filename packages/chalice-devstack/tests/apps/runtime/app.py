"""The runtime test app: handlers that show what an execution environment isolates, limits and reports.

`meet(folder, name, count)` is a barrier across threads and processes: each caller leaves a file
and waits until `count` files are there, so concurrent invocations overlap for certain.
"""

import os
import time
from pathlib import Path
from typing import Any

from chalice import Chalice

app = Chalice(app_name="runtime")

PLACEHOLDER_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/runtime-blocked/stream/placeholder"
WAIT_SECONDS = 10.0
# Module-level state, as a logger's correlation id or a cache is: what one environment keeps between invocations.
CORRELATION_ID: str | None = None
INVOCATIONS = 0


def meet(folder: str, name: str, count: int) -> None:
    """Leave a file named `name` in folder; wait until `count` files are there."""
    Path(folder, name).touch()
    deadline = time.monotonic() + WAIT_SECONDS
    while len(os.listdir(folder)) < count and time.monotonic() < deadline:
        time.sleep(0.01)


def wait_for(path: Path) -> None:
    """Wait until path exists."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def remember(correlation_id: str, folder: str, count: int) -> str | None:
    """Keep the id in the module global, meet the other invocations, read the global back."""
    global CORRELATION_ID
    CORRELATION_ID = correlation_id
    meet(folder, correlation_id, count)
    return CORRELATION_ID


@app.route("/whoami")
def whoami() -> dict[str, Any]:
    """The caller's correlation id, as the module global holds it after meeting the other requests."""
    request = app.current_request
    assert request is not None
    headers = request.headers
    seen = remember(headers["x-correlation-id"], headers["x-meet"], int(headers["x-meet-count"]))
    return {"correlation_id": seen}


@app.route("/hold")
def hold_route() -> dict[str, Any]:
    """Say it started (a file), then wait for the release file."""
    request = app.current_request
    assert request is not None
    folder = Path(request.headers["x-hold"])
    Path(folder, f"started-{request.headers['x-correlation-id']}").touch()
    wait_for(folder / "release")
    return {"held": True}


@app.lambda_function(name="remember")
def remember_function(event: dict[str, Any], context: Any) -> str | None:
    """`remember` for Invoke: {"id", "folder", "count"}."""
    return remember(event["id"], event["folder"], event["count"])


@app.lambda_function(name="hold")
def hold(event: dict[str, Any], context: Any) -> str:
    """Say it started, then wait for the release file (reserved concurrency 1)."""
    folder = Path(event["folder"])
    (folder / "started").touch()
    wait_for(folder / "release")
    return "released"


@app.lambda_function(name="environment")
def environment(event: Any, context: Any) -> dict[str, Any]:
    """Which process ran this, and how many invocations that environment has served."""
    global INVOCATIONS
    INVOCATIONS += 1
    return {"pid": os.getpid(), "invocations": INVOCATIONS, "remaining_ms": context.get_remaining_time_in_millis()}


@app.lambda_function(name="sleepy")
def sleepy(event: dict[str, Any], context: Any) -> str:
    """Outlive the 1 s timeout unless told to be quick."""
    if not event.get("quick"):
        wait_for(Path("/nonexistent/never"))
    return "awake"


@app.lambda_function(name="hog")
def hog(event: dict[str, Any], context: Any) -> int:
    """Allocate event["mb"] MB (the function has 128 MB)."""
    block = bytearray(event["mb"] * 2**20)
    return len(block) // 2**20


@app.on_sqs_message(queue="runtime-blocked", batch_size=1)
def drain_blocked(event: Any) -> None:
    """Never runs: its reserved concurrency is 0."""


@app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM)
def follow_blocked(event: Any) -> None:
    """Never runs: its reserved concurrency is 0."""
