"""A developer's or a test's token: a user of a provisioned Cognito user pool, created if needed, signed in.

    devstack token USER [--group GROUP]... [--pool POOL]      prints the ID token, nothing else
    chalice_devstack.testing.cognito_token(stack_or_endpoint, username, groups=(), pool=None) -> str

The user gets a fixed dev password (DEV_PASSWORD), is confirmed, and ends in exactly the groups asked
for (a group the pool lacks is an error); then ADMIN_USER_PASSWORD_AUTH signs them in with the pool's
first app client. The token is the ID token: API Gateway's Cognito authorizer takes id tokens on a
route without authorization scopes (every route of a Chalice app unless it calls `with_scopes`), and
the id token is the one that carries the user's profile and `cognito:groups` to the handler.
"""

import contextlib
from collections.abc import Iterable
from typing import Any

from chalice_devstack.errors import CommandError

# Meets every character rule a pool's password policy can set; padded to the policy's minimum length.
DEV_PASSWORD = "Devstack-Passw0rd!"  # noqa: S105 - a local, fake user pool


class TokenError(CommandError):
    """No token can be made: no devstack, no such pool or group; the message says which and what to do."""

    exit_code = 2


def id_token(idp: Any, username: str, groups: Iterable[str] = (), pool: str | None = None) -> str:
    """Sign username in to the pool (created, confirmed and put in exactly `groups` first); its ID token."""
    pool_id = find_pool(idp, pool)
    client_id = first_client(idp, pool_id)
    password = ensure_user(idp, pool_id, username)
    set_groups(idp, pool_id, username, set(groups))
    answer = idp.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    token: str = answer["AuthenticationResult"]["IdToken"]
    return token


def find_pool(idp: Any, wanted: str | None) -> str:
    """The id of the pool named by logical id, id or name; with none named, the only pool there is."""
    pages = idp.get_paginator("list_user_pools").paginate(MaxResults=60)
    pools = [pool for page in pages for pool in page["UserPools"]]
    if wanted is None:
        if len(pools) == 1:
            return str(pools[0]["Id"])
        if not pools:
            raise TokenError("the devstack has no user pool; add an AWS::Cognito::UserPool to the resources file")
        raise TokenError(f"the devstack has {len(pools)} user pools ({describe(pools)}); pick one with --pool")
    for pool in pools:
        if wanted in (pool["Id"], pool["Name"], pool["Id"].split("_", 1)[-1]):
            return str(pool["Id"])
    raise TokenError(f"no user pool {wanted!r} on the devstack (its pools: {describe(pools) or 'none'})")


def describe(pools: list[dict[str, Any]]) -> str:
    """Pools as `id (name)`, for a message."""
    return ", ".join(f"{pool['Id']} ({pool['Name']})" for pool in pools)


def first_client(idp: Any, pool_id: str) -> str:
    """The pool's first app client (any client of the pool passes the authorizer)."""
    clients = idp.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
    if not clients:
        raise TokenError(f"user pool {pool_id} has no app client; add an AWS::Cognito::UserPoolClient for it")
    return str(clients[0]["ClientId"])


def ensure_user(idp: Any, pool_id: str, username: str) -> str:
    """Create the user (with an email, unless the username is one) if new; set and return the dev password."""
    pool = idp.describe_user_pool(UserPoolId=pool_id)["UserPool"]
    with contextlib.suppress(idp.exceptions.UsernameExistsException):
        idp.admin_create_user(
            UserPoolId=pool_id,
            Username=username,
            MessageAction="SUPPRESS",
            UserAttributes=[*email_attributes(pool, username), {"Name": "email_verified", "Value": "true"}],
        )
    minimum = int(pool.get("Policies", {}).get("PasswordPolicy", {}).get("MinimumLength", 0))
    password = DEV_PASSWORD.ljust(minimum, "x")
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    return password


def email_attributes(pool: dict[str, Any], username: str) -> list[dict[str, str]]:
    """The new user's email: none when the pool's usernames are emails, else the username or <name>@example.com."""
    if "email" in pool.get("UsernameAttributes", []):
        return []
    return [{"Name": "email", "Value": username if "@" in username else f"{username}@example.com"}]


def set_groups(idp: Any, pool_id: str, username: str, groups: set[str]) -> None:
    """Put the user in exactly these groups of the pool (a group the pool lacks is an error)."""
    known = {group["GroupName"] for group in idp.list_groups(UserPoolId=pool_id)["Groups"]}
    missing = sorted(groups - known)
    if missing:
        raise TokenError(
            f"user pool {pool_id} has no group {', '.join(missing)} (its groups: {', '.join(sorted(known)) or 'none'})"
        )
    listed = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]
    current = {group["GroupName"] for group in listed}
    for group in sorted(groups - current):
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)
    for group in sorted(current - groups):
        idp.admin_remove_user_from_group(UserPoolId=pool_id, Username=username, GroupName=group)
