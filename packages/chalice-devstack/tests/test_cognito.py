"""Cognito user pools offline: provisioned from a resources file, tokens for a user, claims as API Gateway gives them.

These run on an in-process moto (fast); test_gateway.py runs the same pieces through a devstack.
"""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.app import Chalice, CognitoUserPoolAuthorizer
from moto import mock_aws

from chalice_devstack import moto_fixes
from chalice_devstack.cognito import CLIENT_KNOWN_SECONDS, PoolDirectory, gateway_claims, pool_arn, unverified_claims
from chalice_devstack.intrinsics import Scope
from chalice_devstack.provision import provision
from chalice_devstack.testing import gateway_test_client, inprocess_cognito_token
from chalice_devstack.tokens import TokenError, id_token
from tests.conftest import TEST_REGION, write_project

RESOURCES = """
Resources:
  Users:
    Type: AWS::Cognito::UserPool
    Properties:
      UsernameConfiguration: {CaseSensitive: false}
      EnabledMfas: [SOFTWARE_TOKEN_MFA]
  WebClient:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: {"Ref": "Users"}
      ClientName: {"Fn::Sub": "${AWS::StackName}-web"}
  AdminGroup:
    Type: AWS::Cognito::UserPoolGroup
    Properties:
      UserPoolId: {"Fn::GetAtt": [Users, UserPoolId]}
      GroupName: admin
  Audit:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: audit
      DisplayName: {"Fn::Sub": "sign-ins of ${Users.ProviderName}"}
"""
POOL_ID = f"{TEST_REGION}_Users"


def idp() -> Any:
    """A Cognito client of the in-process moto."""
    return boto3.client("cognito-idp", region_name=TEST_REGION)


def members_app() -> Chalice:
    """An app with one route behind an authorizer naming the provisioned pool."""
    app = Chalice(app_name="shop")
    users = CognitoUserPoolAuthorizer("users", provider_arns=[pool_arn(TEST_REGION, POOL_ID)])

    @app.route("/me", authorizer=users)
    def me() -> dict[str, Any]:
        assert app.current_request is not None
        return dict(app.current_request.context["authorizer"])

    return app


@pytest.fixture
def provisioned(tmp_path: Path) -> Iterator[Scope]:
    """Given: a project with a user pool, an app client, a group (and a topic naming the pool) provisioned in moto."""
    project = write_project(tmp_path / "shop", "shop")
    (project.root / "infra").mkdir()
    (project.root / "infra" / "resources.yaml").write_text(RESOURCES)
    moto_fixes.apply(["cognito-idp"])
    with mock_aws():
        yield provision(lambda service: boto3.client(service, region_name=TEST_REGION), project, "dev", TEST_REGION)


def test_a_pool_gets_the_stable_id_and_the_attributes_cloudformation_gives(provisioned: Scope) -> None:
    """Given the provisioned pool, then its id is <region>_<LogicalId>; Ref and Fn::GetAtt resolve as on AWS."""
    issuer = f"cognito-idp.{TEST_REGION}.amazonaws.com/{POOL_ID}"

    assert provisioned.ref("Users") == provisioned.get_att("Users", "UserPoolId") == POOL_ID
    assert provisioned.get_att("Users", "Arn") == pool_arn(TEST_REGION, POOL_ID)
    assert provisioned.get_att("Users", "ProviderName") == issuer
    assert provisioned.get_att("Users", "ProviderURL") == f"https://{issuer}"
    pool = idp().describe_user_pool(UserPoolId=POOL_ID)["UserPool"]
    assert (pool["Arn"], pool["Name"]) == (pool_arn(TEST_REGION, POOL_ID), "shop-dev-Users")  # CloudFormation's name
    assert "devstack:pool-id" not in pool.get("UserPoolTags", {})


def test_the_client_and_group_are_created_in_the_pool_and_resolve(provisioned: Scope) -> None:
    """Given the provisioned client and group, then Ref gives the client id and the group name, as CloudFormation."""
    (client,) = idp().list_user_pool_clients(UserPoolId=POOL_ID)["UserPoolClients"]

    assert provisioned.ref("WebClient") == provisioned.get_att("WebClient", "ClientId") == client["ClientId"]
    assert provisioned.get_att("WebClient", "Name") == client["ClientName"] == "shop-dev-web"
    assert provisioned.ref("AdminGroup") == "admin"
    assert [group["GroupName"] for group in idp().list_groups(UserPoolId=POOL_ID)["Groups"]] == ["admin"]


def test_other_resources_can_name_the_pool(provisioned: Scope) -> None:
    """Given a topic whose display name substitutes the pool's ProviderName, then it holds the pool's issuer."""
    sns = boto3.client("sns", region_name=TEST_REGION)
    attributes = sns.get_topic_attributes(TopicArn=provisioned.ref("Audit"))["Attributes"]

    assert attributes["DisplayName"] == f"sign-ins of cognito-idp.{TEST_REGION}.amazonaws.com/{POOL_ID}"


def test_a_pool_created_by_a_test_keeps_a_random_id(provisioned: Scope) -> None:
    """Given the fix for provisioned pools, when a test creates a pool itself, then moto names it as usual."""
    pool = idp().create_user_pool(PoolName="scratch")["UserPool"]

    assert pool["Id"].startswith(f"{TEST_REGION}_") and pool["Id"] != f"{TEST_REGION}_scratch"


def test_a_token_names_the_user_and_exactly_the_groups_asked_for(provisioned: Scope) -> None:
    """Given the pool, when tokens are asked for a new user as admin and then plain, then each says so."""
    admin = unverified_claims(id_token(idp(), "ada", ["admin"]))
    plain = unverified_claims(id_token(idp(), "ada"))

    assert (admin["cognito:username"], admin["token_use"], admin["aud"]) == ("ada", "id", provisioned.ref("WebClient"))
    assert admin["cognito:groups"] == ["admin"]
    assert (admin["email"], admin["email_verified"]) == ("ada@example.com", "true")  # a client reads every attribute
    assert "cognito:groups" not in plain
    assert admin["sub"] == plain["sub"]  # the same user, signed in twice


@pytest.mark.parametrize(
    ("groups", "pool", "message"),
    [
        (["auditors"], None, "has no group auditors (its groups: admin)"),
        ([], "Staff", "no user pool 'Staff' on the devstack (its pools: eu-west-1_Users (shop-dev-Users))"),
    ],
    ids=["unknown group", "unknown pool"],
)
def test_a_token_for_a_group_or_pool_that_does_not_exist_is_one_clear_error(
    provisioned: Scope, groups: list[str], pool: str | None, message: str
) -> None:
    """Given the pool, when a token names a group or pool it lacks, then TokenError (exit 2) names what exists."""
    with pytest.raises(TokenError, match=re.escape(message)) as raised:
        id_token(idp(), "ada", groups, pool)

    assert raised.value.exit_code == 2


def test_with_several_pools_the_token_needs_one_named(provisioned: Scope) -> None:
    """Given a second pool, when no pool is named, then TokenError asks for --pool; named by logical id, it works."""
    idp().create_user_pool(PoolName="staff")

    with pytest.raises(TokenError, match=r"has 2 user pools .*pick one with --pool"):
        id_token(idp(), "ada")
    assert unverified_claims(id_token(idp(), "ada", pool="Users"))["cognito:username"] == "ada"


def test_the_gateway_test_client_checks_tokens_as_api_gateway_does(provisioned: Scope, tmp_path: Path) -> None:
    """Given chalice's test client made by gateway_test_client, then no token is 401 and a pool's token gives the
    route API Gateway's claims (chalice's own client lets both through, with raw claims)."""
    with gateway_test_client(members_app(), project_dir=str(tmp_path / "shop")) as client:
        missing = client.http.get("/me")
        signed_in = client.http.get("/me", headers={"Authorization": inprocess_cognito_token("ada", ["admin"])})

    assert (missing.status_code, json.loads(missing.body)) == (401, {"message": "Unauthorized"})
    assert signed_in.status_code == 200
    claims = json.loads(signed_in.body)["claims"]
    assert (claims["cognito:username"], claims["cognito:groups"]) == ("ada", "admin")


def test_claims_become_strings_as_api_gateway_writes_them() -> None:
    """Given a token's claims of every JSON kind, then API Gateway's REST form is a string for each."""
    claims = {
        "cognito:groups": ["admin", "staff"],
        "email_verified": True,
        "auth_time": 1680629979,
        "exp": 1680633579,
        "iat": 1680629979,
        "sub": "abc",
    }

    assert gateway_claims(claims) == {
        "cognito:groups": "admin,staff",
        "email_verified": "true",
        "auth_time": "1680629979",
        "exp": "Tue Apr 04 18:39:39 UTC 2023",
        "iat": "Tue Apr 04 17:39:39 UTC 2023",
        "sub": "abc",
    }


class CountingIdp:
    """A cognito-idp client that knows one app client and counts the lookups."""

    class exceptions:  # noqa: N801 - boto3's attribute name
        class ResourceNotFoundException(Exception):
            """As boto3 raises for an unknown client."""

    def __init__(self) -> None:
        self.lookups: list[str] = []

    def describe_user_pool_client(self, UserPoolId: str, ClientId: str) -> dict[str, Any]:  # noqa: N803 - boto3's names
        self.lookups.append(ClientId)
        if ClientId != "known":
            raise self.exceptions.ResourceNotFoundException(ClientId)
        return {"UserPoolClient": {"ClientId": ClientId, "UserPoolId": UserPoolId}}


def test_an_app_client_found_is_not_asked_for_again_for_a_while_and_an_unknown_one_always_is() -> None:
    # Given: a pool directory on a clock that stands still until told
    idp, now = CountingIdp(), [100.0]
    pools = PoolDirectory("http://127.0.0.1:1", lambda _service: idp, clock=lambda: now[0])
    # When: each client is checked twice, then the known one again once its time is up
    checks = [pools.has_client(POOL_ID, client) for client in ("known", "known", "gone", "gone")]
    now[0] += CLIENT_KNOWN_SECONDS
    checks.append(pools.has_client(POOL_ID, "known"))
    # Then: the answers are right, and only the first known lookup was spared its repeat
    assert checks == [True, True, False, False, True]
    assert idp.lookups == ["known", "gone", "gone", "known"]
