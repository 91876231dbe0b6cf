"""Opaque pagination cursors: a DynamoDB LastEvaluatedKey, base64url-encoded JSON."""

import base64
import binascii
import json
from typing import Any

from chalicelib.errors import InvalidRequest, field_error

DynamoKey = dict[str, dict[str, str]]


def encode_cursor(last_key: DynamoKey | None) -> str | None:
    """Turn a LastEvaluatedKey into an opaque token (None on the last page)."""
    if not last_key:
        return None
    raw = json.dumps(last_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, key_names: frozenset[str]) -> DynamoKey | None:
    """Turn a token back into a LastEvaluatedKey, rejecting anything we did not issue."""
    if token is None:
        return None
    try:
        decoded: Any = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError):
        decoded = None
    if not _is_key(decoded, key_names):
        raise InvalidRequest("cursor is not valid", [field_error("cursor", "not a cursor issued by this API")])
    return dict(decoded)


def _is_key(value: Any, key_names: frozenset[str]) -> bool:
    """True when value has exactly the expected key attributes, each a string."""
    return (
        isinstance(value, dict)
        and set(value) == key_names
        and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in value.values())
    )
