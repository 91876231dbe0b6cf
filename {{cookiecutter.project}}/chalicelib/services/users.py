"""User use cases."""

from chalicelib.db.users import users_repository
from chalicelib.errors import NotFound
from chalicelib.observability import logger
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.users import User, UserCreate, UserUpdate


def _not_found(user_id: str) -> NotFound:
    return NotFound(f"user {user_id} not found")


def create_user(data: UserCreate) -> User:
    """Register a user; the email must not belong to another user."""
    user = users_repository().create(data)
    logger.info("user created", extra={"user_id": user.id})
    return user


def get_user(user_id: str) -> User:
    """Return one user or raise NotFound."""
    user = users_repository().get(user_id)
    if user is None:
        raise _not_found(user_id)
    return user


def list_users(query: PageQuery) -> Page[User]:
    """Return one page of users, oldest first."""
    return users_repository().list(query.limit, query.cursor)


def update_user(user_id: str, changes: UserUpdate) -> User:
    """Change a user's name and/or email, or raise NotFound."""
    user = users_repository().update(user_id, changes)
    if user is None:
        raise _not_found(user_id)
    logger.info("user updated", extra={"user_id": user_id, "fields": sorted(changes.model_fields_set)})
    return user


def delete_user(user_id: str) -> None:
    """Delete a user, or raise NotFound."""
    if not users_repository().delete(user_id):
        raise _not_found(user_id)
    logger.info("user deleted", extra={"user_id": user_id})
