"""Users in the service table, and the repository that maps them to schemas."""

import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.db.base import ByTypeIndex, ServiceItem, connection
from chalicelib.db.pagination import CursorScope, decode_cursor, encode_cursor
from chalicelib.errors import Conflict, field_error
from chalicelib.schemas.common import Page
from chalicelib.schemas.users import User, UserCreate, UserUpdate

USERS_PARTITION = "USERS"
LIST_SCOPE = CursorScope(
    "GET /users",
    frozenset({"pk", "sk", "gsi1pk", "gsi1sk"}),
    {"gsi1pk": USERS_PARTITION, "sk": "PROFILE"},
    {"pk": "USER#"},
)


class UserItem(ServiceItem):
    """pk=USER#<id>, sk=PROFILE; listed through gsi1 under USERS."""

    entity = UnicodeAttribute(default="USER")
    id = UnicodeAttribute()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_type = ByTypeIndex()


class EmailClaimItem(ServiceItem):
    """pk=EMAIL#<email>, sk=CLAIM: exists while a user owns that address, so a
    conditional put makes email uniqueness atomic."""

    entity = UnicodeAttribute(default="EMAIL_CLAIM")
    user_id = UnicodeAttribute()


def user_key(user_id: str) -> tuple[str, str]:
    """Return the (pk, sk) of a user's profile item."""
    return f"USER#{user_id}", "PROFILE"


def _claim(email: str, user_id: str) -> EmailClaimItem:
    return EmailClaimItem(f"EMAIL#{email.lower()}", "CLAIM", user_id=user_id)


def _to_schema(item: UserItem) -> User:
    return User(id=item.id, name=item.name, email=item.email, created_at=item.created_at, updated_at=item.updated_at)


# A transaction cancelled for one of these lost a race with another writer of the same items:
# re-reading and trying again gives the outcome of running the two one after the other.
RACE_CODES = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
MAX_ATTEMPTS = 5  # each retry re-reads; more than a few in a row means a hot item, answered 409


def _codes(error: TransactWriteError) -> list[str | None]:
    """The cancellation reason code of each item, in PynamoDB's order: deletes, puts, then updates."""
    codes = [getattr(reason, "code", None) for reason in error.cancellation_reasons or []]
    return [None if code in (None, "None") else code for code in codes]  # DynamoDB says "None" for items that passed


def _email_taken(error: TransactWriteError, claim_position: int) -> bool:
    """True when only the new email claim's condition failed: another user owns that address.

    (When the user item's condition failed too, this request raced a change of the same user,
    which retrying sorts out.)
    """
    codes = _codes(error)
    failed = [i for i, code in enumerate(codes) if code is not None]
    return failed == [claim_position] and codes[claim_position] == "ConditionalCheckFailed"


def _lost_race(error: TransactWriteError) -> bool:
    return any(code in RACE_CODES for code in _codes(error))


def _email_conflict(email: str) -> Conflict:
    return Conflict("email is already registered", [field_error("email", f"{email} is already registered")])


def _busy(user_id: str) -> Conflict:
    return Conflict(
        f"user {user_id} is being changed by other requests; retry", [field_error("user_id", "changed concurrently")]
    )


class UsersRepository:
    """Stores users; every multi-item change is one DynamoDB transaction."""

    def create(self, data: UserCreate, now: datetime | None = None, user_id: str | None = None) -> User:
        """Insert a user (a new id unless given) and claim its email atomically; Conflict if the email is taken."""
        now = now or datetime.now(UTC)
        user_id = user_id or str(uuid.uuid4())
        pk, sk = user_key(user_id)
        item = UserItem(
            pk,
            sk,
            id=user_id,
            name=data.name,
            email=data.email,
            created_at=now,
            updated_at=now,
            gsi1pk=USERS_PARTITION,
            gsi1sk=f"{now.isoformat()}#{user_id}",
        )
        for _ in range(MAX_ATTEMPTS):
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.save(item, condition=UserItem.pk.does_not_exist())
                    tx.save(_claim(data.email, user_id), condition=EmailClaimItem.pk.does_not_exist())
            except TransactWriteError as error:
                if _email_taken(error, claim_position=1):
                    raise _email_conflict(data.email) from error
                if not _lost_race(error):
                    raise
                continue  # a concurrent transaction on the same claim: the retry sees its outcome
            return _to_schema(item)
        raise _email_conflict(data.email)

    def get(self, user_id: str) -> User | None:
        """Return the user, or None when there is none."""
        item = self._get_item(user_id)
        return _to_schema(item) if item else None

    def list(self, limit: int, cursor: str | None) -> Page[User]:
        """Return one page of users, oldest first."""
        result = UserItem.by_type.query(
            USERS_PARTITION, limit=limit, last_evaluated_key=decode_cursor(cursor, LIST_SCOPE)
        )
        items = [_to_schema(item) for item in result if isinstance(item, UserItem)]
        return Page[User](items=items, next=encode_cursor(result.last_evaluated_key, LIST_SCOPE))

    def update(self, user_id: str, changes: UserUpdate, now: datetime | None = None) -> User | None:
        """Apply changes (moving the email claim if the email changes); None if no such user.

        A race with another write of this user is retried on a fresh read (bounded), so concurrent
        PATCHes end as if they ran one after the other; Conflict if the new email is taken.
        """
        for _ in range(MAX_ATTEMPTS):
            item = self._get_item(user_id)
            if item is None:
                return None
            try:
                return self._update_once(item, changes, now or datetime.now(UTC))
            except TransactWriteError as error:
                if not _lost_race(error):
                    raise
        raise _busy(user_id)

    @staticmethod
    def _update_once(item: UserItem, changes: UserUpdate, now: datetime) -> User:
        fields: dict[str, Any] = changes.model_dump(exclude_unset=True)
        fields["updated_at"] = now
        # The claim moves only when the address really changes, not just its case.
        claim_email = changes.email if changes.email and changes.email.lower() != item.email.lower() else None
        actions = [getattr(UserItem, name).set(value) for name, value in fields.items()]
        try:
            with TransactWrite(connection=connection()) as tx:
                # Conditioned on the email we read, so a concurrent email change cannot orphan a claim.
                tx.update(item, actions=actions, condition=UserItem.email == item.email)
                if claim_email is not None:
                    tx.delete(_claim(item.email, item.id), condition=EmailClaimItem.user_id == item.id)
                    tx.save(_claim(claim_email, item.id), condition=EmailClaimItem.pk.does_not_exist())
        except TransactWriteError as error:
            if claim_email is not None and _email_taken(error, claim_position=1):
                raise _email_conflict(claim_email) from error
            raise
        return _to_schema(item).model_copy(update=fields)

    def delete(self, user_id: str) -> bool:
        """Delete the user and release its email; False if there was no such user (or a racing DELETE won)."""
        for _ in range(MAX_ATTEMPTS):
            item = self._get_item(user_id)
            if item is None:
                return False
            try:
                with TransactWrite(connection=connection()) as tx:
                    tx.delete(item, condition=UserItem.email == item.email)
                    tx.delete(_claim(item.email, user_id), condition=EmailClaimItem.user_id == user_id)
            except TransactWriteError as error:
                if not _lost_race(error):
                    raise
                continue  # the user changed or went away since the read: read again
            return True
        raise _busy(user_id)

    @staticmethod
    def _get_item(user_id: str) -> UserItem | None:
        try:
            return UserItem.get(*user_key(user_id), consistent_read=True)
        except UserItem.DoesNotExist:
            return None


@lru_cache(maxsize=1)
def users_repository() -> UsersRepository:
    """Return the process-wide users repository."""
    return UsersRepository()
