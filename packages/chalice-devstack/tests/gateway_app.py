"""The gateway test app (tests/apps/gateway) on devstack, and Cognito tokens for it, shared by its test modules."""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from joserfc import jwt
from joserfc.jwk import RSAKey
from moto.utilities.utils import load_resource

from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, running_devstack
from tests.conftest import APPS_DIR, TEST_REGION

GATEWAY = APPS_DIR / "gateway"
POOL_NAME = "gateway-users"


@contextmanager
def gateway_devstack() -> Iterator[Devstack]:
    """The gateway app on devstack; moto names user pools by a hash of their settings, as the app's config expects."""
    with (
        mock.patch.dict(os.environ, {"MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY": "HASH"}),
        running_devstack(Project.at(GATEWAY), "dev", TEST_REGION) as stack,
    ):
        yield stack


class UserPool:
    """A moto user pool with one app client and one user, and tokens for them."""

    def __init__(self, stack: Devstack) -> None:
        self.idp = stack.client("cognito-idp")
        pool = self.idp.create_user_pool(PoolName=POOL_NAME)["UserPool"]
        self.id, self.arn = pool["Id"], pool["Arn"]
        client = self.idp.create_user_pool_client(
            UserPoolId=self.id, ClientName="web", ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"]
        )
        self.client_id = client["UserPoolClient"]["ClientId"]
        self.idp.admin_create_user(UserPoolId=self.id, Username="ada")
        self.idp.admin_set_user_password(UserPoolId=self.id, Username="ada", Password="Passw0rd!x", Permanent=True)

    def sign_in(self) -> dict[str, str]:
        """IdToken and AccessToken for the user, signed by moto."""
        answer = self.idp.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": "ada", "PASSWORD": "Passw0rd!x"},
        )
        tokens: dict[str, str] = answer["AuthenticationResult"]
        return tokens

    def forge(self, **changes: Any) -> str:
        """An id token signed with moto's own key, with some claims changed (to test each check alone)."""
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
        key = RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))
        return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key)
