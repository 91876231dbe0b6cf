"""devstack's loopback servers keep a connection open across requests, and close it when they stop."""

import http.client
import json
from collections.abc import Iterable, Iterator
from typing import Any

import pytest

from chalice_devstack.endpoint import HOST
from chalice_devstack.serving import bind, serve_in_thread


def echo_path(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """A WSGI app that answers the path and the peer's port, and never reads the request's body."""
    body = json.dumps({"path": environ["PATH_INFO"], "peer": environ["REMOTE_PORT"]}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


@pytest.fixture
def server() -> Iterator[Any]:
    """Given: a devstack server on a free port, serving echo_path."""
    served = bind(echo_path, 0)
    serve_in_thread(served, "test-serving")
    yield served
    served.shutdown()
    served.server_close()


def ask(connection: http.client.HTTPConnection, path: str, body: bytes = b"") -> tuple[dict[str, Any], str | None]:
    """POST on an open connection: the JSON answer and its Connection header."""
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return json.loads(response.read()), response.getheader("Connection")


def test_requests_share_one_connection_even_when_the_app_leaves_the_body_unread(server: Any) -> None:
    connection = http.client.HTTPConnection(HOST, server.server_port, timeout=5)

    answers = [ask(connection, f"/call/{n}", b'{"unread": "' + b"x" * 5000 + b'"}') for n in range(3)]

    assert [answer["path"] for answer, _ in answers] == ["/call/0", "/call/1", "/call/2"]
    assert len({answer["peer"] for answer, _ in answers}) == 1  # one TCP connection for all three
    assert {header for _, header in answers} == {None}  # no `Connection: close`


def test_a_chunked_request_still_closes_its_connection(server: Any) -> None:
    connection = http.client.HTTPConnection(HOST, server.server_port, timeout=5)
    connection.request("POST", "/chunked", body=iter([b"a", b"b"]), encode_chunked=True)
    response = connection.getresponse()

    assert json.loads(response.read())["path"] == "/chunked"
    assert response.getheader("Connection") == "close"


def test_stopping_the_server_ends_its_open_connections(server: Any) -> None:
    connection = http.client.HTTPConnection(HOST, server.server_port, timeout=5)
    assert ask(connection, "/first")[0]["path"] == "/first"

    server.shutdown()

    with pytest.raises(ConnectionError):  # http.client.RemoteDisconnected: closed instead of answered
        ask(connection, "/after")
