"""User use cases."""

from chalicelib.db.users import users_repository
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.errors import Conflict, Forbidden, NotFound
{%- else %}
from chalicelib.errors import NotFound
{%- endif %}
from chalicelib.observability import logger
{%- if cookiecutter.include_auth == 'y' %}
from chalicelib.schemas.auth import Principal
{%- endif %}
from chalicelib.schemas.common import Page, PageQuery
from chalicelib.schemas.users import User, UserCreate, UserUpdate


def _not_found(user_id: str) -> NotFound:
    return NotFound(f"user {user_id} not found")
{%- if cookiecutter.include_auth == 'y' %}


def save_profile(caller: Principal, data: UserCreate) -> User:
    """Create the caller's profile under their user id, or replace its name and email; the email must be theirs alone.

    A profile is keyed by the caller's identity, so repeating the request (a retry, a second device) never makes
    a second user.
    """
    changes = UserUpdate(name=data.name, email=data.email)
    user = users_repository().update(caller.user_id, changes)
    if user is None:
        try:
            user = users_repository().create(data, user_id=caller.user_id)
        except Conflict:
            # A concurrent first save may have created the profile: replace it, else the email was taken.
            user = users_repository().update(caller.user_id, changes)
            if user is None:
                raise
        logger.info("user created", extra={"user_id": user.id})
    return user


def get_user(caller: Principal, user_id: str) -> User:
    """Return a user the caller may read (themselves; anyone for an admin), or raise NotFound."""
    user = users_repository().get(user_id) if caller.may_read(user_id) else None
    if user is None:
        raise _not_found(user_id)
    return user


def list_users(caller: Principal, query: PageQuery) -> Page[User]:
    """Return one page of users, oldest first; admins only."""
    if not caller.is_admin:
        raise Forbidden("only admins may list users")
    return users_repository().list(query.limit, query.cursor)


def update_user(caller: Principal, user_id: str, changes: UserUpdate) -> User:
    """Change the caller's own name and/or email; anyone else's is NotFound."""
    user = users_repository().update(user_id, changes) if caller.owns(user_id) else None
    if user is None:
        raise _not_found(user_id)
    logger.info("user updated", extra={"user_id": user_id, "fields": sorted(changes.model_fields_set)})
    return user


def delete_user(caller: Principal, user_id: str) -> None:
    """Delete the caller's own profile; anyone else's is NotFound."""
    if not (caller.owns(user_id) and users_repository().delete(user_id)):
        raise _not_found(user_id)
    logger.info("user deleted", extra={"user_id": user_id})
{%- else %}


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
{%- endif %}
