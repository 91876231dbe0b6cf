"""Opaque pagination cursors bound to the query that issued them.

A cursor is a DynamoDB LastEvaluatedKey (base64url JSON) plus an HMAC, keyed from settings,
over that key and the query's scope (route and partition, e.g. one user's orders). A cursor
from another query, user or route, a tampered one, or one whose key attributes do not belong
to the query is a 400 naming `cursor`: on AWS a foreign ExclusiveStartKey would otherwise be a
ValidationException (a 500) or, worse, a page of another query.
"""

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.config import get_settings
from chalicelib.errors import InvalidRequest, field_error

DynamoKey = dict[str, dict[str, str]]
SIGNATURE_BYTES = 16  # 128 bits: forging needs the key, and it keeps cursors short


@dataclass(frozen=True)
class CursorScope:
    """The query a cursor belongs to: a name unique per query, its key attributes, and what their values must be."""

    name: str
    key_names: frozenset[str]
    fixed: dict[str, str] = field(default_factory=dict)  # attribute -> the value the query fixes
    prefixes: dict[str, str] = field(default_factory=dict)  # attribute -> how its value starts


def encode_cursor(last_key: Mapping[str, object] | None, scope: CursorScope) -> str | None:
    """Turn a LastEvaluatedKey (PynamoDB's or boto3's) into a signed opaque token (None on the last page)."""
    if not last_key:
        return None
    payload = _b64encode(json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode())
    return f"{payload}.{_b64encode(_signature(payload, scope))}"


def decode_cursor(token: str | None, scope: CursorScope) -> DynamoKey | None:
    """Turn a token back into a LastEvaluatedKey; InvalidRequest unless this query issued it."""
    if token is None:
        return None
    payload, _, signature = token.partition(".")
    if not hmac.compare_digest(_b64decode(signature), _signature(payload, scope)):
        raise _invalid("not a cursor issued for this query")
    try:
        decoded: Any = json.loads(_b64decode(payload))
    except ValueError:
        decoded = None
    if not _is_key(decoded, scope):
        raise _invalid("the cursor's key does not belong to this query")
    return dict(decoded)


def _signature(payload: str, scope: CursorScope) -> bytes:
    key = get_settings().cursor_signing_key.get_secret_value().encode()
    message = f"{scope.name}\n{payload}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()[:SIGNATURE_BYTES]


def _is_key(value: Any, scope: CursorScope) -> bool:
    """True when value has exactly the query's key attributes, each a non-empty string, the fixed ones equal."""
    return (
        isinstance(value, dict)
        and set(value) == scope.key_names
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) and v["S"] for v in value.values())
        and all(value[name]["S"] == expected for name, expected in scope.fixed.items())
        and all(value[name]["S"].startswith(prefix) for name, prefix in scope.prefixes.items())
    )


def _invalid(reason: str) -> InvalidRequest:
    return InvalidRequest("cursor is not valid", [field_error("cursor", reason)])


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""
