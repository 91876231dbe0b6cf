"""Sign-in end to end: devstack checks real tokens of its user pool as API Gateway's Cognito authorizer does."""

import uuid

from chalice_devstack.testing import Devstack

from tests.auth_support import SignedInDevstack, sign_up


def test_no_token_or_a_bad_token_is_401_and_health_stays_open(devstack: SignedInDevstack) -> None:
    for reply in (
        Devstack.api(devstack, "GET", "/users/me"),
        devstack.api("GET", "/users/me", headers={"Authorization": "not-a-token"}),
    ):
        # API Gateway's answer in the service's error shape (GatewayResponses in infra/resources.yaml)
        assert reply.status == 401
        assert reply.body["error"]["code"] == "unauthorized"
        assert reply.body["error"]["details"] == []
        assert reply.body["error"]["correlation_id"] == reply.headers["x-amzn-RequestId"]
    assert Devstack.api(devstack, "GET", "/health").status == 200


def test_alice_cannot_see_bobs_profile_an_admin_can(devstack: SignedInDevstack) -> None:
    alice, alice_headers = sign_up(devstack, "Alice", f"alice.{uuid.uuid4().hex[:8]}@example.com")
    bob, _ = sign_up(devstack, "Bob", f"bob.{uuid.uuid4().hex[:8]}@example.com")
    assert alice.status == 200 and bob.status == 200
    assert devstack.api("GET", f"/users/{bob.body['id']}", headers=alice_headers).status == 404
    assert devstack.api("GET", f"/users/{bob.body['id']}").body == bob.body
