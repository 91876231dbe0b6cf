"""Cognito user pool tokens checked offline the way API Gateway's Cognito authorizer checks them.

moto signs its id and access tokens with one RSA key and serves the public half as each pool's
JWKS (`GET /{pool_id}/.well-known/jwks.json` on the endpoint). A token passes when its signature
verifies against that JWKS, it has not expired, its issuer is a pool the authorizer names, and its
audience (id token) or client_id (access token) is an app client of that pool. A route with no
authorization scopes takes only id tokens; a route with scopes takes only access tokens holding one of
them (API Gateway's rule).

moto's user pool ids are random; a pool of the resources file gets a stable id instead,
`<region>_<LogicalId>` (`stable_pool_id`), so .chalice/config.json can name its ARN the way it
names tables and queues, and the app's authorizer and the provisioned pool agree.
"""

import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalice_devstack.project import LOCAL_ACCOUNT_ID

if TYPE_CHECKING:  # joserfc costs ~65 ms to import; only apps with a Cognito authorizer need it, on first use
    from joserfc.jwk import KeySet

Clock = Callable[[], float]

# The tag provisioning puts on a pool it creates: moto_fixes gives the pool that id (and drops the tag).
POOL_ID_TAG = "devstack:pool-id"
MAX_POOL_ID_LENGTH = 55  # Cognito's limit
# How long an app client found in its pool is taken as there without asking again. API Gateway keeps an
# authorizer's result for 300 s by default; without this, every request cost one more call to the endpoint.
CLIENT_KNOWN_SECONDS = 60.0


def stable_pool_id(region: str, logical_id: str) -> str:
    """The id devstack gives the user pool a resources file declares as logical_id: `<region>_<LogicalId>`."""
    return f"{region}_{logical_id}"[:MAX_POOL_ID_LENGTH]


def pool_arn(region: str, pool_id: str) -> str:
    """A user pool's ARN in the local account (what CognitoUserPoolAuthorizer's provider_arns name)."""
    return f"arn:aws:cognito-idp:{region}:{LOCAL_ACCOUNT_ID}:userpool/{pool_id}"


def provider_name(region: str, pool_id: str) -> str:
    """A pool's ProviderName (its token issuer without the scheme), as CloudFormation's Fn::GetAtt gives it."""
    return f"cognito-idp.{region}.amazonaws.com/{pool_id}"


class InvalidToken(Exception):
    """The token would not pass API Gateway's Cognito authorizer; the message says why (for the log)."""


class PoolDirectory:
    """What the endpoint knows about a user pool: its JWKS (cached: moto's key is fixed) and its app clients
    (one found is taken as there for CLIENT_KNOWN_SECONDS; one not found is asked for again next time)."""

    def __init__(self, endpoint_url: str, clients: Callable[[str], Any], clock: Clock = time.monotonic) -> None:
        self.endpoint_url, self._clients, self._clock = endpoint_url.rstrip("/"), clients, clock
        self._key_sets: dict[str, KeySet] = {}
        self._clients_found: dict[tuple[str, str], float] = {}  # (pool, client) -> when it was last found

    def key_set(self, pool_id: str) -> "KeySet":
        """The pool's signing keys, as its JWKS URL serves them."""
        import urllib.request  # here: ~10 ms of every start otherwise, and only Cognito authorizers fetch a JWKS

        from joserfc.jwk import KeySet

        if pool_id not in self._key_sets:
            url = f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the loopback endpoint
                self._key_sets[pool_id] = KeySet.import_key_set(json.loads(response.read()))
        return self._key_sets[pool_id]

    def has_client(self, pool_id: str, client_id: str) -> bool:
        """True when client_id is an app client of the pool (False when the pool does not exist)."""
        found = self._clients_found.get((pool_id, client_id))
        if found is not None and self._clock() - found < CLIENT_KNOWN_SECONDS:
            return True
        idp = self._clients("cognito-idp")
        try:
            idp.describe_user_pool_client(UserPoolId=pool_id, ClientId=client_id)
        except idp.exceptions.ResourceNotFoundException:
            self._clients_found.pop((pool_id, client_id), None)
            return False
        self._clients_found[(pool_id, client_id)] = self._clock()
        return True


class InProcessPools(PoolDirectory):
    """The pools of moto in this process (mock_aws): moto's one public key, from its package, is every pool's JWKS."""

    def __init__(self, clients: Callable[[str], Any], clock: Clock = time.monotonic) -> None:
        super().__init__("", clients, clock)

    def key_set(self, pool_id: str) -> "KeySet":
        """The pool's signing keys (the same for every pool moto makes)."""
        from joserfc.jwk import KeySet
        from moto.utilities.utils import load_resource

        if pool_id not in self._key_sets:
            self._key_sets[pool_id] = KeySet.import_key_set(load_resource("cognitoidp/resources/jwks-public.json"))
        return self._key_sets[pool_id]


class CognitoVerifier:
    """Checks a bearer token against the user pools an authorizer names; returns its claims."""

    def __init__(self, pools: PoolDirectory, clock: Clock = time.time) -> None:
        self.pools, self.clock = pools, clock

    def claims(self, token: str, provider_arns: list[str], scopes: Iterable[str] = ()) -> dict[str, Any]:
        """The verified claims of token, or InvalidToken naming the first check it failed.

        With no scopes the token must be an id token; with scopes, an access token granting one of them.
        """
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
        _check_use(claims, set(scopes))
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


def _check_use(claims: Mapping[str, Any], scopes: set[str]) -> None:
    """API Gateway's rule: a route without scopes takes id tokens, a route with scopes access tokens holding one."""
    if not scopes and claims.get("token_use") != "id":
        raise InvalidToken("an access token on a route without authorization scopes (it takes id tokens)")
    if scopes and (claims.get("token_use") != "access" or not scopes & set(str(claims.get("scope", "")).split())):
        raise InvalidToken(f"not an access token with one of the route's scopes {sorted(scopes)}")


# How API Gateway writes the time claims it hands a REST API's Lambda (Java's Date.toString, in UTC).
GATEWAY_TIME_FORMAT = "%a %b %d %H:%M:%S UTC %Y"
GATEWAY_TIME_CLAIMS = ("exp", "iat")


def gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway's Cognito authorizer hands them to a REST API: every value a string.

    Lists are comma-joined (`cognito:groups`: "admin,staff"), booleans lower case, numbers as digits,
    and exp / iat as dates ("Tue Apr 04 18:39:39 UTC 2023"); auth_time stays digits.
    """
    return {name: _gateway_value(name, value) for name, value in claims.items()}


def _gateway_value(name: str, value: Any) -> str:
    if name in GATEWAY_TIME_CLAIMS and isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime(GATEWAY_TIME_FORMAT)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ",".join(str(item) for item in value)
    return value if isinstance(value, str) else json.dumps(value)


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
