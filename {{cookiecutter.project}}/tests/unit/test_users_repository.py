"""UsersRepository against moto: transactions, uniqueness, pagination."""

from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.db.users import EmailClaimItem, UsersRepository
from chalicelib.errors import Conflict, InvalidRequest
from chalicelib.schemas.users import UserCreate, UserUpdate

pytestmark = pytest.mark.usefixtures("aws")


def new_user(repo: UsersRepository, email: str = "ada@example.com", name: str = "Ada") -> str:
    return repo.create(UserCreate(name=name, email=email)).id


def claim_owner(email: str) -> str | None:
    try:
        return EmailClaimItem.get(f"EMAIL#{email.lower()}", "CLAIM").user_id
    except EmailClaimItem.DoesNotExist:
        return None


def test_create_then_get_returns_the_same_user() -> None:
    repo = UsersRepository()
    created = repo.create(UserCreate(name="Ada", email="ada@example.com"))
    assert repo.get(created.id) == created
    assert claim_owner("ada@example.com") == created.id


def test_email_is_unique_case_insensitively() -> None:
    repo = UsersRepository()
    new_user(repo, "ada@example.com")
    with pytest.raises(Conflict) as raised:
        new_user(repo, "ADA@example.com", name="Impostor")
    assert raised.value.details[0]["field"] == "email"


def test_update_moves_the_email_claim() -> None:
    repo = UsersRepository()
    user_id = new_user(repo, "old@example.com")
    updated = repo.update(user_id, UserUpdate(email="new@example.com"))
    assert updated is not None and updated.email == "new@example.com"
    assert claim_owner("old@example.com") is None
    assert claim_owner("new@example.com") == user_id


def test_update_to_a_taken_email_conflicts_and_changes_nothing() -> None:
    repo = UsersRepository()
    first = new_user(repo, "first@example.com")
    second = new_user(repo, "second@example.com")
    with pytest.raises(Conflict):
        repo.update(second, UserUpdate(name="Renamed", email="first@example.com"))
    unchanged = repo.get(second)
    assert unchanged is not None and (unchanged.name, unchanged.email) == ("Ada", "second@example.com")
    assert claim_owner("first@example.com") == first
    assert claim_owner("second@example.com") == second


def test_update_name_only_keeps_the_claim() -> None:
    repo = UsersRepository()
    user_id = new_user(repo)
    later = datetime.now(UTC) + timedelta(seconds=5)
    updated = repo.update(user_id, UserUpdate(name="Lovelace"), now=later)
    assert updated is not None and updated.name == "Lovelace" and updated.updated_at == later
    assert claim_owner("ada@example.com") == user_id


def test_delete_releases_the_email() -> None:
    repo = UsersRepository()
    user_id = new_user(repo)
    assert repo.delete(user_id) is True
    assert repo.get(user_id) is None
    assert claim_owner("ada@example.com") is None
    assert repo.delete(user_id) is False
    assert new_user(repo) != user_id


def test_missing_user_is_none() -> None:
    repo = UsersRepository()
    assert repo.get("00000000-0000-4000-8000-000000000000") is None
    assert repo.update("00000000-0000-4000-8000-000000000000", UserUpdate(name="x")) is None


def test_list_pages_through_every_user_once_in_creation_order() -> None:
    repo = UsersRepository()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [
        repo.create(UserCreate(name=f"u{i}", email=f"u{i}@example.com"), now=start + timedelta(seconds=i)).id
        for i in range(7)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = repo.list(limit=3, cursor=cursor)
        seen += [user.id for user in page.items]
        pages += 1
        cursor = page.next
        if cursor is None:
            break
    assert seen == ids
    assert pages in (3, 4)  # DynamoDB may return an empty last page after a full one


def test_list_rejects_a_forged_cursor() -> None:
    with pytest.raises(InvalidRequest) as raised:
        UsersRepository().list(limit=3, cursor="eyJwayI6eyJTIjoxfX0")  # {"pk":{"S":1}}
    assert raised.value.details[0]["field"] == "cursor"
