"""devstack's header parsing: the same HTTPMessage as http.client's, for plain blocks and every other kind."""

import http.client
import io

import pytest

from chalice_devstack import http_headers

BLOCKS = [
    b"Host: 127.0.0.1:4566\r\nContent-Length: 12\r\nX-Amz-Target: DynamoDB_20120810.GetItem\r\n\r\n",
    b"A: 1\r\na: 2\r\nEmpty:\r\nSpaces:   padded  \r\nTab:\tx\r\nColon: a:b:c\r\n\r\n",
    b"Latin: caf\xe9\r\n\r\n",
    b"\r\n",
    b"Folded: first\r\n  second\r\nAfter: x\r\n\r\n",  # a folded line: the email parser's way
    b"not a header line\r\nHost: x\r\n\r\n",
    b"From nobody\r\nHost: x\r\n\r\n",
    b": no name\r\n\r\n",
    b"Lone: carriage\rreturn\r\n\r\n",
]


@pytest.mark.parametrize("block", BLOCKS)
def test_a_header_block_parses_as_http_client_parses_it(block: bytes) -> None:
    """Given a header block, devstack's parser answers what http.client's does: the same headers, in order."""
    ours = http_headers.parse_headers(io.BytesIO(block + b"body"))
    theirs = http_headers._EMAIL_PARSED(io.BytesIO(block + b"body"))

    assert type(ours) is type(theirs)
    assert ours.items() == theirs.items()
    names = [name for name, _ in theirs.items()]
    assert [ours.get_all(name) for name in names] == [theirs.get_all(name) for name in names]


def test_the_stream_is_left_at_the_body() -> None:
    """Given a request, parsing its headers leaves the stream at the first byte of the body."""
    stream = io.BytesIO(BLOCKS[0] + b"body")
    http_headers.parse_headers(stream)

    assert stream.read() == b"body"


def test_installed_http_client_answers_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the parser installed, http.client's parse_headers is devstack's."""
    monkeypatch.setattr(http.client, "parse_headers", http.client.parse_headers)
    http_headers.install()

    assert http.client.parse_headers is http_headers.parse_headers
