"""Sign-in at the API's edge: the Cognito user pool authorizer every private route declares, and the caller it lets in.

API Gateway checks the token (signature, expiry, issuer, audience) before the function runs and hands
the function the token's claims; this module only turns those claims into a Principal.
"""

from typing import Any

from chalice.app import CognitoUserPoolAuthorizer, Request

from chalicelib.config import get_settings
from chalicelib.schemas.auth import ADMIN_GROUP, Principal

# The packaged template binds the authorizer to the stack's own pool (infra/resources.yaml); the ARN here
# names the pool devstack provisions under a stable id, so offline the two agree.
USER_POOL = CognitoUserPoolAuthorizer("UserPool", provider_arns=[get_settings().user_pool_arn])


def principal_of(request: Request) -> Principal:
    """The caller of an authorized request: the token's `sub`, and admin when `cognito:groups` holds the group."""
    claims: dict[str, Any] = request.context["authorizer"]["claims"]
    return Principal(user_id=claims["sub"], is_admin=ADMIN_GROUP in groups_of(claims))


def groups_of(claims: dict[str, Any]) -> list[str]:
    """The token's groups: API Gateway passes `cognito:groups` as one comma-separated string, tools as a list."""
    groups = claims.get("cognito:groups") or []
    return groups.split(",") if isinstance(groups, str) else [str(group) for group in groups]
