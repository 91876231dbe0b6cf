"""devstack's loopback WSGI servers, and the endpoint child's relay to the parent's control server.

The parent imports this module only once it has started the endpoint child: werkzeug takes tens
of milliseconds to import, and the child's start is what `devstack ready` waits for.
"""

import contextlib
import http.client
import io
import json
import socket
import threading
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, ThreadedWSGIServer, WSGIRequestHandler

from chalice_devstack import http_headers
from chalice_devstack.endpoint import HOST, StartResponse, WSGIApp

SHUTDOWN_POLL_SECONDS = 0.5


class QuietHandler(WSGIRequestHandler):
    """werkzeug's handler without a log line per request, with TCP_NODELAY (no delayed-ACK stall), and keep-alive.

    werkzeug answers every request with `Connection: close`, and then waits 10 ms for stray body
    bytes to discard. So every AWS call a function makes, and every saga step, opened a connection
    and started a server thread (a tenth of the endpoint's CPU in an orders burst). Here a request
    whose body has a length is read in full before the app runs, so the connection is at the next
    request when the answer is sent: it stays open, and werkzeug's discard finds nothing to wait
    for. A chunked or `Expect: 100-continue` request still closes its connection, as werkzeug does.
    """

    disable_nagle_algorithm = True
    server: "KeepAliveServer"
    keep_alive = False

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Requests are not logged: the console shows one line per invocation instead."""

    def setup(self) -> None:
        """Note the connection, so that the server can close it when it stops."""
        super().setup()
        self.server.opened(self.connection)

    def finish(self) -> None:
        """Forget the connection (it is closing)."""
        self.server.closed(self.connection)
        super().finish()

    def handle_one_request(self) -> None:
        """One request on the connection; it closes unless make_environ read its body in full."""
        self.keep_alive = False
        super().handle_one_request()
        if self.server.stopping:
            self.close_connection = True

    def make_environ(self) -> Any:
        """werkzeug's environ, with a body that has a length read in full, so the stream is at the next request."""
        environ = super().make_environ()
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return environ
        if environ.get("HTTP_EXPECT", "").strip().lower() == "100-continue":
            return environ  # werkzeug answers 100 Continue after this; the body comes then
        try:
            length = max(0, int(environ.get("CONTENT_LENGTH") or 0))
        except ValueError:
            return environ
        environ["wsgi.input"] = io.BytesIO(self.rfile.read(length))
        self.keep_alive = True
        return environ

    def run_wsgi(self) -> None:
        """werkzeug's run_wsgi; on a kept connection its discard of stray bytes sees an empty stream at once."""
        stream, connection = self.rfile, self.connection
        try:
            super().run_wsgi()
        finally:
            self.rfile, self.connection = stream, connection

    def send_header(self, keyword: str, value: str) -> None:
        """Headers as werkzeug sends them, without its `Connection: close` on a request read in full."""
        if keyword.lower() == "connection" and self.keep_alive:
            # The answer's headers go first: from here werkzeug only writes the body, then
            # discards what is left of the request, which on a kept connection is the next request.
            self.rfile, self.connection = io.BytesIO(), self.server.at_end
            return
        super().send_header(keyword, value)


class KeepAliveServer(ThreadedWSGIServer):
    """werkzeug's threaded server (a thread per connection) whose connections outlive a request.

    `shutdown` also closes the open connections: a client holding one must not reach a stopped devstack.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = False
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        # A socket whose peer has closed: always readable, at its end (werkzeug's discard stops at once).
        self.at_end, peer = socket.socketpair()
        peer.close()

    def opened(self, connection: socket.socket) -> None:
        """A handler started on a connection."""
        with self._lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        """A handler's connection is closing."""
        with self._lock:
            self._connections.discard(connection)

    def shutdown(self) -> None:
        """Stop accepting, then end every open connection (a handler waiting for a request reads EOF)."""
        self.stopping = True
        super().shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # closed meanwhile
                connection.shutdown(socket.SHUT_RDWR)


def bind(app: WSGIApp, port: int, listening: socket.socket | None = None) -> BaseWSGIServer:
    """A threaded keep-alive WSGI server on 127.0.0.1:port (OSError: taken), or on an `endpoint.listen` socket."""
    http_headers.install()
    fd = listening.fileno() if listening is not None else None
    server = KeepAliveServer(HOST, port, app, QuietHandler, fd=fd)
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

    def _connection(self, pooled: bool = True) -> http.client.HTTPConnection:
        """An idle pooled connection (unless not `pooled`), or a new one."""
        with self._lock:
            if pooled and self._idle:
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
        for attempt in (1, 2):  # a keep-alive connection the peer closed: once more, on a new connection
            connection = self._connection(pooled=attempt == 1)
            try:
                connection.request(environ["REQUEST_METHOD"], path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                if response.will_close:  # the peer closes after this answer: the connection cannot be reused
                    connection.close()
                else:
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
