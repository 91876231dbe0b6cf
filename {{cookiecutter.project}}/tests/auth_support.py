"""Signed-in callers for tests: unsigned claims for the Chalice test client, real pool tokens on a devstack.

chalice.test.Client hands a route the payload of the token it is given as its claims, unchecked (devstack and
API Gateway check the signature); so a token there is the claims a Cognito ID token carries, unsigned.
"""

import base64
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from chalice_devstack.testing import Devstack, Reply, cognito_token

from chalicelib.schemas.auth import ADMIN_GROUP


def _segment(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def as_user(user_id: str, *, admin: bool = False) -> dict[str, str]:
    """The headers of a request signed in as user_id (the token's sub); a member of the admin group with admin."""
    claims: dict[str, Any] = {"sub": user_id, "cognito:username": f"user-{user_id[:8]}", "token_use": "id"}
    if admin:
        claims["cognito:groups"] = [ADMIN_GROUP]
    return {"Authorization": f"{_segment({'alg': 'none'})}.{_segment(claims)}."}


def as_admin() -> dict[str, str]:
    """The headers of a request by an admin of its own (no profile needed)."""
    return as_user(new_user_id(), admin=True)


def admin_by_default(client: Any) -> None:
    """Sign a chalice.test.Client's requests in as an admin, unless a request carries its own Authorization."""
    request = client.http.request

    def signed_in(method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"") -> Any:
        return request(method, path, headers={**as_admin(), **(headers or {})}, body=body)

    client.http.request = signed_in


def new_user_id() -> str:
    """A fresh user id, as Cognito gives each user a `sub`."""
    return str(uuid.uuid4())


def sign_up(devstack: Devstack, name: str, email: str) -> tuple[Reply, dict[str, str]]:
    """A new user of the devstack's pool saves a profile: the PUT /users/me reply, and the headers to act as them."""
    caller = {"Authorization": cognito_token(devstack, f"e2e-{uuid.uuid4().hex[:12]}")}
    return devstack.api("PUT", "/users/me", {"name": name, "email": email}, caller), caller


@dataclass
class SignedInDevstack(Devstack):
    """A running devstack whose API calls are signed in with real pool tokens: as an admin unless a call has its own."""

    admin: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, stack: Devstack) -> "SignedInDevstack":
        """The same devstack, its API calls signed in as an admin of the pool."""
        signed = cls(stack.endpoint_url, stack.api_url, stack.region, stack.output)
        signed.admin = {"Authorization": cognito_token(stack, "e2e-admin", [ADMIN_GROUP])}
        return signed

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Reply:
        """Call the API signed in (as an admin unless headers carry another token)."""
        return super().api(method, path, body, {**self.admin, **(headers or {})})
