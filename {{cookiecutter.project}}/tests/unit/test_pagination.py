"""Cursors: round trips, and a 400 naming `cursor` for anything this query did not issue."""

import pytest

from chalicelib.db.pagination import CursorScope, decode_cursor, encode_cursor
from chalicelib.db.users import LIST_SCOPE
from chalicelib.errors import InvalidRequest


def user_orders_scope(user_id: str) -> CursorScope:
    """A per-user listing's scope, shaped like GET /users/{id}/orders' (built here: orders may be switched off)."""
    keys = frozenset({"pk", "sk", "gsi1pk", "gsi1sk"})
    return CursorScope(f"GET /users/{user_id}/orders", keys, {"gsi1pk": f"USER#{user_id}#ORDERS"}, {"pk": "ORDER#"})


ALICE, BOB = "00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000b"


def user_key(n: int) -> dict[str, dict[str, str]]:
    return {
        "pk": {"S": f"USER#{n}"},
        "sk": {"S": "PROFILE"},
        "gsi1pk": {"S": "USERS"},
        "gsi1sk": {"S": f"2024-01-01T00:00:0{n}#{n}"},
    }


def order_key(user_id: str) -> dict[str, dict[str, str]]:
    return {
        "pk": {"S": "ORDER#1"},
        "sk": {"S": "ORDER"},
        "gsi1pk": {"S": f"USER#{user_id}#ORDERS"},
        "gsi1sk": {"S": "2024-01-01#1"},
    }


def rejected(token: str, scope: CursorScope) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as raised:
        decode_cursor(token, scope)
    assert [detail["field"] for detail in raised.value.details] == ["cursor"]
    return raised.value


def test_a_cursor_round_trips_within_its_query() -> None:
    # Given a cursor issued by the users listing
    token = encode_cursor(user_key(1), LIST_SCOPE)
    # Then it is URL-safe and decodes back to the key for the same listing
    assert token is not None and "=" not in token
    assert decode_cursor(token, LIST_SCOPE) == user_key(1)


def test_no_key_means_no_cursor() -> None:
    assert encode_cursor(None, LIST_SCOPE) is None
    assert decode_cursor(None, LIST_SCOPE) is None


def test_another_users_cursor_is_rejected() -> None:
    # Given a cursor of Alice's orders
    token = encode_cursor(order_key(ALICE), user_orders_scope(ALICE))
    assert token is not None
    # When it is used on Bob's orders, then it is a 400 naming cursor
    rejected(token, user_orders_scope(BOB))


def test_another_routes_cursor_is_rejected() -> None:
    # Given a cursor of Alice's orders, when it is used on GET /users, then it is rejected
    token = encode_cursor(order_key(ALICE), user_orders_scope(ALICE))
    assert token is not None
    rejected(token, LIST_SCOPE)


def test_a_tampered_cursor_is_rejected() -> None:
    # Given a valid cursor whose payload is swapped for another key, keeping the signature
    token = encode_cursor(user_key(1), LIST_SCOPE)
    other = encode_cursor(user_key(2), LIST_SCOPE)
    assert token is not None and other is not None
    forged = f"{other.partition('.')[0]}.{token.partition('.')[2]}"
    # Then the signature no longer matches
    error = rejected(forged, LIST_SCOPE)
    assert "issued for this query" in error.details[0]["message"]


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": ""}, "sk": {"S": ""}, "gsi1pk": {"S": ""}, "gsi1sk": {"S": ""}},  # empty attributes
        {"pk": {"S": "USER#1"}, "sk": {"S": "PROFILE"}},  # attributes missing
        {**order_key(ALICE)},  # another entity's key in this partition's shape
        {"pk": {"N": "1"}, "sk": {"S": "PROFILE"}, "gsi1pk": {"S": "USERS"}, "gsi1sk": {"S": "x"}},  # wrong type
    ],
)
def test_a_signed_cursor_with_invalid_key_attributes_is_rejected(key: dict[str, dict[str, str]]) -> None:
    # Given a correctly signed cursor over key attributes this query never returns (a signing bug, a leaked key)
    token = encode_cursor(key, LIST_SCOPE)
    assert token is not None
    # Then decoding it is a 400 naming cursor, never an ExclusiveStartKey DynamoDB would refuse
    error = rejected(token, LIST_SCOPE)
    assert "does not belong" in error.details[0]["message"]


@pytest.mark.parametrize("token", ["%%%", "bm90IGpzb24", "e30", "e30.", ".", "e30.AAAA"])
def test_garbage_is_rejected(token: str) -> None:
    rejected(token, LIST_SCOPE)
