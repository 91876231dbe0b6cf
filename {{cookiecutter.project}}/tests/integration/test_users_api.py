"""Users API through chalice.test.Client: every route and every error path."""

import json
from typing import Any

import pytest
{%- if cookiecutter.include_auth == 'y' %}

from tests.auth_support import as_admin, as_user, new_user_id
{%- endif %}
{%- set create_route = '"PUT", "/users/me"' if cookiecutter.include_auth == 'y' else '"POST", "/users"' %}

MISSING = "00000000-0000-4000-8000-000000000000"


def call(
    client: Any, method: str, path: str, body: Any = None, raw: str | None = None, headers: dict[str, str] | None = None
) -> Any:
    payload = raw if raw is not None else (json.dumps(body) if body is not None else None)
{%- if cookiecutter.include_auth == 'y' %}
    # An admin unless the test signs in as someone: admins read any user, so only the tests about owners say who.
    headers = {"Content-Type": "application/json", **as_admin(), **(headers or {})}
    return client.http.request(method, path, body=payload, headers=headers)


def create(client: Any, name: str = "Ada", email: str = "ada@example.com") -> dict[str, Any]:
    """A new signed-in user's first PUT /users/me; returns the profile."""
    response = call(client, "PUT", "/users/me", {"name": name, "email": email}, headers=as_user(new_user_id()))
    assert response.status_code == 200, response.json_body
{%- else %}
    return client.http.request(
        method, path, body=payload, headers={"Content-Type": "application/json", **(headers or {})}
    )


def create(client: Any, name: str = "Ada", email: str = "ada@example.com") -> dict[str, Any]:
    response = call(client, "POST", "/users", {"name": name, "email": email})
    assert response.status_code == 201, response.json_body
{%- endif %}
    return response.json_body  # type: ignore[no-any-return]


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.json_body
    error = response.json_body["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["correlation_id"]
    if field is not None:
        assert field in [detail["field"] for detail in error["details"]], error["details"]


def test_health(client: Any) -> None:
    response = call(client, "GET", "/health")
    assert response.status_code == 200
    assert response.json_body["status"] == "ok"


def test_create_get_patch_delete(client: Any) -> None:
    user = create(client)
{%- if cookiecutter.include_auth == 'y' %}
    owner = as_user(user["id"])
    assert call(client, "GET", "/users/me", headers=owner).json_body == user
    patched = call(client, "PATCH", f"/users/{user['id']}", {"name": "Ada L."}, headers=owner)
    assert patched.status_code == 200 and patched.json_body["name"] == "Ada L."
    assert call(client, "DELETE", f"/users/{user['id']}", headers=owner).status_code == 204
{%- else %}
    assert call(client, "GET", f"/users/{user['id']}").json_body == user
    patched = call(client, "PATCH", f"/users/{user['id']}", {"name": "Ada L."})
    assert patched.status_code == 200 and patched.json_body["name"] == "Ada L."
    assert call(client, "DELETE", f"/users/{user['id']}").status_code == 204
{%- endif %}
    assert_error(call(client, "GET", f"/users/{user['id']}"), 404, "not_found")
{%- if cookiecutter.include_auth == 'y' %}


def test_a_profile_is_the_callers_and_saving_it_again_replaces_it(client: Any) -> None:
    # Given a signed-in user who saves their profile twice (a retry, a second device)
    caller = as_user(new_user_id())
    first = call(client, "PUT", "/users/me", {"name": "Ada", "email": "ada@example.com"}, headers=caller)
    again = call(
        client,
        "PUT",
        "/users/me",
        {"name": "Ada L.", "email": "ada@example.com"},
        headers=caller | {"X-Correlation-Id": "t-1"},
    )
    # Then it is one user, under the token's sub, with the latest name
    assert again.status_code == 200 and again.headers["X-Correlation-Id"] == "t-1"
    assert again.json_body["id"] == first.json_body["id"] and again.json_body["name"] == "Ada L."
    assert [u["id"] for u in call(client, "GET", "/users").json_body["items"]] == [first.json_body["id"]]
{%- else %}


def test_create_sets_location_and_correlation_id(client: Any) -> None:
    response = call(
        client, "POST", "/users", {"name": "Ada", "email": "ada@example.com"}, headers={"X-Correlation-Id": "trace-123"}
    )
    assert response.headers["Location"] == f"/users/{response.json_body['id']}"
    assert response.headers["X-Correlation-Id"] == "trace-123"
{%- endif %}


def test_duplicate_email_is_409(client: Any) -> None:
    create(client)
{%- if cookiecutter.include_auth == 'y' %}
    response = call(
        client, "PUT", "/users/me", {"name": "B", "email": "ada@example.com"}, headers=as_user(new_user_id())
    )
    assert_error(response, 409, "conflict", "email")
{%- else %}
    assert_error(call(client, "POST", "/users", {"name": "B", "email": "ada@example.com"}), 409, "conflict", "email")
{%- endif %}


def test_patch_to_taken_email_is_409(client: Any) -> None:
    create(client)
    other = create(client, "Bob", "bob@example.com")
{%- if cookiecutter.include_auth == 'y' %}
    response = call(
        client, "PATCH", f"/users/{other['id']}", {"email": "ada@example.com"}, headers=as_user(other["id"])
    )
{%- else %}
    response = call(client, "PATCH", f"/users/{other['id']}", {"email": "ada@example.com"})
{%- endif %}
    assert_error(response, 409, "conflict", "email")


def test_list_paginates_with_an_opaque_cursor(client: Any) -> None:
    ids = [create(client, f"u{i}", f"u{i}@example.com")["id"] for i in range(5)]
    first = call(client, "GET", "/users?limit=2").json_body
    assert [u["id"] for u in first["items"]] == ids[:2]
    second = call(client, "GET", f"/users?limit=2&cursor={first['next']}").json_body
    assert [u["id"] for u in second["items"]] == ids[2:4]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("colour=red", "colour"),
    ],
)
def test_bad_pagination_is_400(client: Any, query: str, field: str) -> None:
    assert_error(call(client, "GET", f"/users?{query}"), 400, "invalid_request", field)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Ada"}, "email"),
        ({"name": "Ada", "email": "not-an-email"}, "email"),
        ({"name": 42, "email": "ada@example.com"}, "name"),
        ({"name": "", "email": "ada@example.com"}, "name"),
        ({"name": "x" * 101, "email": "ada@example.com"}, "name"),
        ({"name": "Ada", "email": "ada@example.com", "admin": True}, "admin"),
    ],
    ids=["missing", "bad-email", "wrong-type", "empty", "oversize", "unknown-field"],
)
def test_invalid_body_is_422_naming_the_field(client: Any, body: dict[str, Any], field: str) -> None:
    assert_error(call(client, {{ create_route }}, body), 422, "validation_failed", field)


@pytest.mark.parametrize("raw", ["{not json", "", "[1, 2]"], ids=["malformed", "empty", "not-an-object"])
def test_malformed_body_is_4xx(client: Any, raw: str) -> None:
    response = call(client, {{ create_route }}, raw=raw)
    assert response.status_code in (400, 422)
    assert response.json_body["error"]["details"]


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "body"), ({"name": None}, "name"), ({"email": "nope"}, "email")],
    ids=["empty", "null", "bad-email"],
)
def test_invalid_patch_is_422(client: Any, body: dict[str, Any], field: str) -> None:
    user = create(client)
{%- if cookiecutter.include_auth == 'y' %}
    response = call(client, "PATCH", f"/users/{user['id']}", body, headers=as_user(user["id"]))
    assert_error(response, 422, "validation_failed", field)
{%- else %}
    assert_error(call(client, "PATCH", f"/users/{user['id']}", body), 422, "validation_failed", field)
{%- endif %}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_bad_id_is_400(client: Any, method: str) -> None:
    assert_error(call(client, method, "/users/not-a-uuid", {"name": "x"}), 400, "invalid_request", "user_id")


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_missing_user_is_404(client: Any, method: str) -> None:
    assert_error(call(client, method, f"/users/{MISSING}", {"name": "x"}), 404, "not_found")


def test_unexpected_error_is_500_without_a_stack_trace(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.services import users

    def explode(*_: Any) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(users, "users_repository", explode)
    response = call(client, "GET", f"/users/{MISSING}", headers={"X-Correlation-Id": "cid-500"})
    assert_error(response, 500, "internal_error")
    assert response.json_body["error"]["correlation_id"] == "cid-500"
    assert "secret internals" not in response.body.decode()
    assert "Traceback" not in response.body.decode()
{%- if cookiecutter.include_auth == 'y' %}


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_another_users_profile_answers_404_as_if_it_did_not_exist(client: Any, method: str) -> None:
    # Given Alice and Bob, each with a profile
    alice, bob = create(client, "Alice", "alice@example.com"), create(client, "Bob", "bob@example.com")
    # When Alice addresses Bob's profile
    response = call(client, method, f"/users/{bob['id']}", {"name": "Mallory"}, headers=as_user(alice["id"]))
    # Then it is 404, and Bob's profile is unchanged
    assert_error(response, 404, "not_found")
    assert call(client, "GET", f"/users/{bob['id']}").json_body == bob


def test_only_admins_read_other_users_and_list_them(client: Any) -> None:
    alice, bob = create(client, "Alice", "alice@example.com"), create(client, "Bob", "bob@example.com")
    assert call(client, "GET", f"/users/{bob['id']}", headers=as_user(alice["id"], admin=True)).json_body == bob
    assert_error(call(client, "GET", "/users", headers=as_user(alice["id"])), 403, "forbidden")


def test_my_profile_is_404_until_it_is_saved(client: Any) -> None:
    assert_error(call(client, "GET", "/users/me", headers=as_user(new_user_id())), 404, "not_found")
{%- endif %}
