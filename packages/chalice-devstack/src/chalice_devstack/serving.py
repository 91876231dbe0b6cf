"""devstack's loopback WSGI servers, and the endpoint child's relay to the parent's control server.

The parent imports this module only once it has started the endpoint child: werkzeug takes tens
of milliseconds to import, and the child's start is what `devstack ready` waits for.
"""

import http.client
import json
import socket
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from chalice_devstack.endpoint import HOST, StartResponse, WSGIApp

SHUTDOWN_POLL_SECONDS = 0.5


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request, with TCP_NODELAY (no delayed-ACK stall)."""

    disable_nagle_algorithm = True

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are not logged: the console shows one line per invocation instead."""


def bind(app: WSGIApp, port: int, listening: socket.socket | None = None) -> BaseWSGIServer:
    """A threaded keep-alive WSGI server on 127.0.0.1:port (OSError: taken), or on an `endpoint.listen` socket."""
    fd = listening.fileno() if listening is not None else None
    server = make_server(HOST, port, app, threaded=True, request_handler=QuietHandler, fd=fd)
    server.daemon_threads = True  # type: ignore[attr-defined]  # ThreadedWSGIServer (threaded=True)
    if listening is not None:
        listening.close()  # the server listens on its own duplicate of the descriptor
    return server


def serve_in_thread(server: BaseWSGIServer, name: str) -> threading.Thread:
    """Serve until server.shutdown(); the poll interval bounds how long shutdown takes (and wakes an idle server)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS}, name=name, daemon=True
    )
    thread.start()
    return thread


class Forwarder:
    """A WSGI app that relays requests to another loopback server over a pool of keep-alive connections.

    A pool, not a connection per thread: moto runs each Step Functions execution (and each request)
    on a thread of its own, and a new connection is a new thread of the server at the other end,
    where the functions run. A connection reused is a thread reused, and what a function keeps
    per thread (PynamoDB's botocore client) lives on, as it does in a warm Lambda environment.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        """An idle pooled connection, or a new one."""
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return http.client.HTTPConnection(HOST, self.port, timeout=900)

    def _release(self, connection: http.client.HTTPConnection) -> None:
        """Put a connection whose answer was read in full back in the pool."""
        with self._lock:
            self._idle.append(connection)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """Relay one request and its answer."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("RAW_URI") or environ.get("PATH_INFO", "")
        headers = {
            key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")
        }
        headers["Content-Length"] = str(len(body))
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        for attempt in (1, 2):  # a keep-alive connection the peer closed: reconnect once
            connection = self._connection()
            try:
                connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                self._release(connection)
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                connection.close()
                if attempt == 2:
                    start_response("502 Bad Gateway", [("Content-Type", "application/json")])
                    return [json.dumps({"message": "devstack control server is not answering"}).encode()]
        skip = {"transfer-encoding", "connection", "content-length"}
        start_response(
            f"{response.status} {response.reason}",
            [(k, v) for k, v in response.getheaders() if k.lower() not in skip] + [("Content-Length", str(len(data)))],
        )
        return [data]
