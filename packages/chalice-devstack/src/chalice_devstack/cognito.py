"""Cognito user pool tokens checked offline the way API Gateway's Cognito authorizer checks them.

moto signs its id and access tokens with one RSA key and serves the public half as each pool's
JWKS (`GET /{pool_id}/.well-known/jwks.json` on the endpoint). A token passes when its signature
verifies against that JWKS, it has not expired, its issuer is a pool the authorizer names, and its
audience (id token) or client_id (access token) is an app client of that pool.
"""

import base64
import binascii
import json
import time
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # joserfc costs ~65 ms to import; only apps with a Cognito authorizer need it, on first use
    from joserfc.jwk import KeySet

Clock = Callable[[], float]


class InvalidToken(Exception):
    """The token would not pass API Gateway's Cognito authorizer; the message says why (for the log)."""


class PoolDirectory:
    """What the endpoint knows about a user pool: its JWKS and its app clients (JWKS cached: moto's key is fixed)."""

    def __init__(self, endpoint_url: str, clients: Callable[[str], Any]) -> None:
        self.endpoint_url, self._clients = endpoint_url.rstrip("/"), clients
        self._key_sets: dict[str, KeySet] = {}

    def key_set(self, pool_id: str) -> "KeySet":
        """The pool's signing keys, as its JWKS URL serves them."""
        from joserfc.jwk import KeySet

        if pool_id not in self._key_sets:
            url = f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the loopback endpoint
                self._key_sets[pool_id] = KeySet.import_key_set(json.loads(response.read()))
        return self._key_sets[pool_id]

    def has_client(self, pool_id: str, client_id: str) -> bool:
        """True when client_id is an app client of the pool (False when the pool does not exist)."""
        idp = self._clients("cognito-idp")
        try:
            idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
        except idp.exceptions.ResourceNotFoundException:
            return False
        return True


class CognitoVerifier:
    """Checks a bearer token against the user pools an authorizer names; returns its claims."""

    def __init__(self, pools: PoolDirectory, clock: Clock = time.time) -> None:
        self.pools, self.clock = pools, clock

    def claims(self, token: str, provider_arns: list[str]) -> dict[str, Any]:
        """The verified claims of token, or InvalidToken naming the first check it failed."""
        from joserfc import jwt
        from joserfc.errors import JoseError

        pool_id = self._pool_of(token, provider_arns)
        try:
            decoded = jwt.decode(bare(token), self.pools.key_set(pool_id))
        except (JoseError, ValueError) as error:
            raise InvalidToken(f"bad signature or token: {error}") from None
        claims: dict[str, Any] = decoded.claims
        if float(claims.get("exp", 0)) <= self.clock():
            raise InvalidToken("token expired")
        client = claims.get("aud") if claims.get("token_use") == "id" else claims.get("client_id")
        if claims.get("token_use") not in ("id", "access") or not client:
            raise InvalidToken("not a Cognito id or access token")
        if not self.pools.has_client(pool_id, str(client)):
            raise InvalidToken(f"client {client} is not an app client of {pool_id}")
        return claims

    @staticmethod
    def _pool_of(token: str, provider_arns: list[str]) -> str:
        """The pool that issued token, checked to be one of the authorizer's pools (read before verifying)."""
        issuer = str(unverified_claims(token).get("iss", ""))
        pools = {arn.rsplit("/", 1)[-1]: arn.split(":")[3] for arn in provider_arns if ":userpool/" in arn}
        pool_id = issuer.rsplit("/", 1)[-1]
        if pool_id not in pools or issuer != f"https://cognito-idp.{pools[pool_id]}.amazonaws.com/{pool_id}":
            raise InvalidToken(f"issuer {issuer!r} is not one of the authorizer's user pools")
        return pool_id


def bare(token: str) -> str:
    """The JWT of an Authorization header value, with or without `Bearer `."""
    return token.removeprefix("Bearer ").strip()


def unverified_claims(token: str) -> dict[str, Any]:
    """A JWT's payload read without checking anything (to find which pool's keys to check it with)."""
    try:
        payload = bare(token).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error) as error:
        raise InvalidToken(f"not a JWT: {error}") from None
    if not isinstance(claims, dict):
        raise InvalidToken("not a JWT: its payload is not an object")
    return claims
