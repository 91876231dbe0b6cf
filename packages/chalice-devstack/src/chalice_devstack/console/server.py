"""The console's WSGI app under `/_devstack/console/`: the page and its assets, the feed, the redrive action.

    GET  /_devstack/console/                    the page (static/index.html)
    GET  /_devstack/console/<asset>             static/console.js, static/console.css
    GET  /_devstack/console/feed?select=ID:NAME the JSON feed (feed.Feed); `select` picks a machine's execution
    POST /_devstack/console/redrive/<DLQ id>    move the DLQ's messages back (chalice_devstack.redrive: make redrive's)

Firing a schedule is the control plane's own route (`POST /_devstack/schedules/NAME`, what `devstack trigger`
calls). The POSTs need the `X-Devstack-Console` header: a page on another origin cannot send it without a
CORS preflight, which nothing here answers, so only the console (or a deliberate caller) can press the buttons.
"""

import json
from http import HTTPStatus
from importlib.resources import files
from typing import Any
from urllib.parse import parse_qs, unquote

from chalice_devstack.console.feed import Feed
from chalice_devstack.endpoint import CONSOLE_PREFIX
from chalice_devstack.redrive import pairs_by_dlq, redrive

ASSETS = {
    "": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
STATIC = files("chalice_devstack.console") / "static"
ACTION_HEADER = "HTTP_X_DEVSTACK_CONSOLE"
JOURNAL_DIR = ".redrive"  # where `make redrive` keeps its journal too (project root)

Reply = tuple[int, str, bytes]


class ConsoleApp:
    """The console for one running devstack (chalice_devstack.stack.Stack)."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack
        self.feed = Feed(stack)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        """Serve one console request."""
        path = environ.get("PATH_INFO", "").removeprefix(CONSOLE_PREFIX)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            status, content_type, body = self.route(method, path, environ)
        except Exception as error:  # the page shows the problem; the devstack keeps running
            status, content_type, body = 500, "application/json", reply({"message": f"{type(error).__name__}: {error}"})
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), ("Cache-Control", "no-store")]
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]

    def route(self, method: str, path: str, environ: dict[str, Any]) -> Reply:
        """(status, content type, body) for one console path."""
        if method == "GET" and path in ASSETS:
            return 200, ASSETS[path], (STATIC / (path or "index.html")).read_bytes()
        if method == "GET" and path == "feed":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            selected = dict(item.split(":", 1) for item in query.get("select", []) if ":" in item)
            return 200, "application/json", reply(self.feed.build(selected))
        if method == "POST" and path.startswith("redrive/"):
            if not environ.get(ACTION_HEADER):
                return 403, "application/json", reply({"message": "the console's buttons send X-Devstack-Console: 1"})
            return self.redrive(unquote(path.removeprefix("redrive/")))
        return 404, "application/json", reply({"message": f"no console route {method} {CONSOLE_PREFIX}{path}"})

    def redrive(self, dlq_logical_id: str) -> Reply:
        """Move one DLQ's messages back to the queue whose RedrivePolicy names it."""
        pairs = pairs_by_dlq(self.stack.template, self.stack.scope)
        if dlq_logical_id not in pairs:
            known = ", ".join(sorted(pairs)) or "none"
            return 404, "application/json", reply({"message": f"no DLQ {dlq_logical_id!r} to redrive (DLQs: {known})"})
        journal = self.stack.project.root / JOURNAL_DIR
        return 200, "application/json", reply(redrive(self.stack.client("sqs"), pairs[dlq_logical_id], journal))


def reply(body: Any) -> bytes:
    """A JSON body."""
    return json.dumps(body, default=str).encode()
