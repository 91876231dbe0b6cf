"""HTTP header blocks parsed without the email package, in devstack's processes.

http.client.parse_headers, which every request to devstack's servers and every answer its clients
read goes through, hands the block to the email package's feed parser: about an eighth of the
endpoint's CPU for a GetItem. A block of plain `Name: value` lines, the only kind AWS clients and
devstack send, parses here into the same HTTPMessage in a fraction of the time; any other block
(folded lines, a line that is not a header) goes to the email parser as before.
"""

import http.client
import re
from typing import Any, BinaryIO

# A header line as the email feed parser recognises one: printable ASCII but ':' up to the first ':'.
HEADER_LINE = re.compile(r"[\041-\071\073-\176]+:")

_EMAIL_PARSED = http.client.parse_headers


def parse_headers(fp: BinaryIO, _class: Any = http.client.HTTPMessage) -> Any:
    """http.client.parse_headers' answer for the block at fp, without the email parser when the block is plain."""
    lines = http.client._read_headers(fp)  # type: ignore[attr-defined]  # what parse_headers itself reads
    message = _plain_block(lines, _class)
    if message is None:
        from email.parser import Parser

        return Parser(_class=_class).parsestr(b"".join(lines).decode("iso-8859-1"))
    return message


def _plain_block(lines: list[bytes], message_class: Any) -> Any:
    """The message of a block of `Name: value` lines (the email parser's values), or None for any other block."""
    message = message_class()
    for raw in lines:
        line = raw.decode("iso-8859-1").rstrip("\r\n")
        if not line:
            continue  # the blank line that ends the block
        if not HEADER_LINE.match(line) or line.startswith("From ") or "\r" in line:
            return None  # the email parser reads these its own way (a lone CR even ends a line there)
        name, value = line.split(":", 1)
        message.set_raw(name, value.lstrip(" \t"))
    return message


def install() -> None:
    """Parse header blocks here in this process (http.server and http.client look parse_headers up on each call)."""
    http.client.parse_headers = parse_headers  # type: ignore[assignment]  # same answers as the overloads
