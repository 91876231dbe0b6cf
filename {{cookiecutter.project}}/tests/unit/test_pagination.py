"""Cursor encoding: round trips, and rejects anything it did not issue."""

import pytest

from chalicelib.db.pagination import decode_cursor, encode_cursor
from chalicelib.errors import InvalidRequest

KEYS = frozenset({"pk", "sk"})


def test_round_trip() -> None:
    key = {"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}}
    token = encode_cursor(key)
    assert token is not None and "=" not in token
    assert decode_cursor(token, KEYS) == key


def test_no_key_means_no_cursor() -> None:
    assert encode_cursor(None) is None
    assert decode_cursor(None, KEYS) is None


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", encode_cursor({"pk": {"S": "x"}}), "e30"])
def test_rejects_garbage_and_foreign_keys(token: str) -> None:
    with pytest.raises(InvalidRequest) as raised:
        decode_cursor(token, KEYS)
    assert raised.value.details == [{"field": "cursor", "message": "not a cursor issued by this API"}]
