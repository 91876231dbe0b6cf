"""The gateway test app (tests/apps/gateway) on devstack, and Cognito tokens for it, shared by its test modules."""

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, running_devstack
from tests.conftest import APPS_DIR, TEST_REGION

GATEWAY = APPS_DIR / "gateway"
POOL_ID = f"{TEST_REGION}_Users"  # the id devstack gives the resources file's `Users` pool


@contextmanager
def gateway_devstack() -> Iterator[Devstack]:
    """The gateway app on devstack (its user pool provisioned from its resources file)."""
    with running_devstack(Project.at(GATEWAY), "dev", TEST_REGION) as stack:
        yield stack


def segment(data: dict[str, Any] | bytes) -> str:
    """One base64url part of a JWT (a JSON object or raw bytes)."""
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class UserPool:
    """The provisioned user pool and its app client, and tokens forged with moto's signing key."""

    def __init__(self, stack: Devstack) -> None:
        self.idp = stack.client("cognito-idp")
        self.id = POOL_ID
        self.client_id = self.idp.list_user_pool_clients(UserPoolId=POOL_ID)["UserPoolClients"][0]["ClientId"]
        self.private_key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))

    def claims(self, **changes: Any) -> dict[str, Any]:
        """A valid id token's claims for the user ada, with some changed (None: left out)."""
        now = int(time.time())
        claims = {
            "iss": f"https://cognito-idp.{TEST_REGION}.amazonaws.com/{self.id}",
            "aud": self.client_id,
            "token_use": "id",
            "cognito:username": "ada",
            "iat": now,
            "exp": now + 600,
            **changes,
        }
        return {name: value for name, value in claims.items() if value is not None}

    def forge(self, **changes: Any) -> str:
        """An id token signed with moto's own key, with some claims changed (to test each check alone)."""
        return jwt.encode({"alg": "RS256", "kid": "dummy"}, self.claims(**changes), self.private_key)

    def tampered(self) -> str:
        """A valid token whose payload is swapped, after signing, for one naming another user."""
        header, _, signature = self.forge().split(".")
        return f"{header}.{segment(self.claims(**{'cognito:username': 'eve'}))}.{signature}"

    def unsigned(self) -> str:
        """A valid token's claims under `alg: none` and no signature."""
        return f"{segment({'alg': 'none', 'typ': 'JWT'})}.{segment(self.claims())}."

    def signed_with_public_key_as_secret(self) -> str:
        """A valid token's claims signed HS256 with the pool's public key (PEM) as the HMAC secret."""
        public_pem = self.private_key.as_pem(private=False)
        signing_input = f"{segment({'alg': 'HS256', 'kid': 'dummy'})}.{segment(self.claims())}"
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return f"{signing_input}.{segment(signature)}"
