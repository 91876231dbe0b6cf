"""User use cases: NotFound semantics on top of the repository."""

import pytest

{% if cookiecutter.include_auth == 'y' -%}
from chalicelib.errors import Conflict, Forbidden, NotFound
from chalicelib.schemas.auth import Principal
{%- else -%}
from chalicelib.errors import NotFound
{%- endif %}
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.users import UserCreate, UserUpdate
from chalicelib.services import users

pytestmark = pytest.mark.usefixtures("aws")
MISSING = "00000000-0000-4000-8000-000000000000"


{%- if cookiecutter.include_auth == 'y' %}
ALICE = Principal(user_id="11111111-1111-4111-8111-111111111111")
ADMIN = Principal(user_id="22222222-2222-4222-8222-222222222222", is_admin=True)


def test_lifecycle() -> None:
    user = users.save_profile(ALICE, UserCreate(name="Grace", email="grace@example.com"))
    assert user.id == ALICE.user_id and users.get_user(ALICE, user.id) == user
    assert users.update_user(ALICE, user.id, UserUpdate(name="Grace H.")).name == "Grace H."
    assert [u.id for u in users.list_users(ADMIN, PageQuery(limit=10)).items] == [user.id]
    users.delete_user(ALICE, user.id)
    with pytest.raises(NotFound):
        users.get_user(ADMIN, user.id)


def test_saving_a_profile_again_replaces_it_and_keeps_the_email_rule() -> None:
    users.save_profile(ALICE, UserCreate(name="Grace", email="grace@example.com"))
    assert users.save_profile(ALICE, UserCreate(name="G", email="g@example.com")).email == "g@example.com"
    with pytest.raises(Conflict):
        users.save_profile(ADMIN, UserCreate(name="Copy", email="g@example.com"))


def test_only_admins_list_users() -> None:
    with pytest.raises(Forbidden):
        users.list_users(ALICE, PageQuery(limit=10))


@pytest.mark.parametrize(
    "call",
    [
        lambda: users.get_user(ADMIN, MISSING),
        lambda: users.update_user(ALICE, MISSING, UserUpdate(name="x")),
        lambda: users.delete_user(ALICE, MISSING),
    ],
    ids=["get", "update", "delete"],
)
{%- else %}


def test_lifecycle() -> None:
    user = users.create_user(UserCreate(name="Grace", email="grace@example.com"))
    assert users.get_user(user.id) == user
    assert users.update_user(user.id, UserUpdate(name="Grace H.")).name == "Grace H."
    assert [u.id for u in users.list_users(PageQuery(limit=10)).items] == [user.id]
    users.delete_user(user.id)
    with pytest.raises(NotFound):
        users.get_user(user.id)


@pytest.mark.parametrize(
    "call",
    [
        lambda: users.get_user(MISSING),
        lambda: users.update_user(MISSING, UserUpdate(name="x")),
        lambda: users.delete_user(MISSING),
    ],
    ids=["get", "update", "delete"],
)
{%- endif %}
def test_missing_user_raises_not_found(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as raised:
        call()
    assert MISSING in raised.value.message
