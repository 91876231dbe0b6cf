"""The demo walk's runner, driven through a fake transport (no service needed)."""

import io
import re
from typing import Any

from scripts.demo_walk import PATTERN_WALKS, STEPS, Reply, Step, run_walk
from tests.conftest import Renderer


class FakeTransport:
    """Answers from a script of replies and records every request."""

    def __init__(self, replies: list[Reply]) -> None:
        self.replies = replies
        self.sent: list[tuple[str, str, Any]] = []

    def request(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        self.sent.append((method, path, body))
        return self.replies.pop(0)


def test_saved_values_fill_later_paths_url_quoted() -> None:
    """Given a step that saves a value, then later paths use it, quoted for a URL."""
    steps = [Step("create", "POST", "/users", {"n": 1}, 201, save={"cursor": "next"}),
             Step("page", "GET", "/users?cursor={cursor}")]
    transport = FakeTransport([Reply(201, {}, {"next": "a+b/c="}), Reply(200, {}, {"items": []})])
    assert run_walk(transport, steps, out=io.StringIO()) == []
    assert transport.sent == [("POST", "/users", {"n": 1}), ("GET", "/users?cursor=a%2Bb%2Fc%3D", None)]


def test_unexpected_status_is_reported_and_the_walk_goes_on() -> None:
    """Given a reply with another status than expected, then it is listed and later steps still run."""
    steps = [Step("dup", "POST", "/users", {}, 409), Step("list", "GET", "/users")]
    transport = FakeTransport([Reply(201, {}, {}), Reply(200, {}, {})])
    out = io.StringIO()
    assert run_walk(transport, steps, out=out) == ["dup: 201 != 409"]
    assert len(transport.sent) == 2
    assert "EXPECTED 409" in out.getvalue()


def test_raw_body_is_sent_as_is() -> None:
    """Given a step with a raw (malformed) body, then it is sent unchanged, not JSON-encoded."""
    transport = FakeTransport([Reply(400, {}, None)])
    run_walk(transport, [Step("bad", "POST", "/users", expect=400, raw_body='{"name": ')], out=io.StringIO())
    assert transport.sent == [("POST", "/users", '{"name": ')]


def test_walk_covers_the_users_api() -> None:
    """Given the demo's steps, then they cover every users route, the conflict and bad input."""
    calls = {(step.method, step.path.split("?")[0].replace("{ada}", "{id}")) for step in STEPS}
    assert {("POST", "/users"), ("GET", "/users"), ("GET", "/users/{id}"), ("PATCH", "/users/{id}"),
            ("DELETE", "/users/{id}")} <= calls
    assert {409, 400, 422, 404} <= {step.expect for step in STEPS}


def test_every_event_pattern_of_the_service_has_a_walk(rendered: Renderer) -> None:
    """Given the all-on render, then each module of chalicelib/events/ that registers a handler has a pattern walk."""
    project = rendered("all-on")
    handler = re.compile(r"^@\w+\.(on_\w+|schedule)\(", flags=re.MULTILINE)
    modules = {path.relative_to(project).as_posix() for path in (project / "chalicelib" / "events").glob("*.py")
               if handler.search(path.read_text())}
    assert modules == {marker for _, marker, _ in PATTERN_WALKS}
