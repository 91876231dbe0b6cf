"""User use cases: NotFound semantics on top of the repository."""

import pytest

from chalicelib.errors import NotFound
from chalicelib.schemas.common import PageQuery
from chalicelib.schemas.users import UserCreate, UserUpdate
from chalicelib.services import users

pytestmark = pytest.mark.usefixtures("aws")
MISSING = "00000000-0000-4000-8000-000000000000"


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
def test_missing_user_raises_not_found(call) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFound) as raised:
        call()
    assert MISSING in raised.value.message
