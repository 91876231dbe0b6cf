"""The local API Gateway on devstack: every authorizer kind answers as API Gateway does (tests/apps/gateway).

One devstack (a child process) serves the module; each test calls the API over HTTP like a client.
"""

import json
import re
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest

from chalice_devstack.testing import Devstack, cognito_token
from tests.conftest import TEST_REGION, devstack_command, port_flag
from tests.gateway_app import GATEWAY, UserPool, gateway_devstack


@pytest.fixture(scope="module")
def stack() -> Iterator[Devstack]:
    """Given: the gateway app running on devstack."""
    with gateway_devstack() as running:
        yield running


@pytest.fixture(scope="module")
def pool(stack: Devstack) -> UserPool:
    """Given: the provisioned user pool the app's Cognito authorizer names, and its app client."""
    return UserPool(stack)


def test_a_route_without_authorizer_answers(stack: Devstack) -> None:
    """Given an open route, when called without a token, then it answers 200."""
    assert stack.api("GET", "/open").body == {"open": True}


@pytest.mark.parametrize("method", ["PUT", "TRACE", "QUERY"])
def test_a_method_no_route_has_is_a_405_not_a_server_error(stack: Devstack, method: str) -> None:
    # Given: /open, a GET route; When: another method reaches it; Then: a client error, as for any unrouted method
    assert stack.api(method, "/open").status == 405


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        ("allow", 200, {"tier": "gold", "principalId": "gate-user"}),
        (None, 401, {"message": "Unauthorized"}),
        ("wrong", 401, {"message": "Unauthorized"}),
        ("deny", 403, {"Message": "User is not authorized to access this resource"}),
        ("crash", 500, {"message": None}),
    ],
)
def test_the_builtin_authorizer_answers_as_api_gateway(
    stack: Devstack, token: str | None, status: int, body: object
) -> None:
    """Given the built-in authorizer, when called with each kind of token, then API Gateway's answer comes back."""
    reply = stack.api("GET", "/builtin", headers={"Authorization": token} if token else {})

    assert (reply.status, reply.body) == (status, body)


def test_an_authorizer_that_raises_leaves_the_connection_usable(stack: Devstack) -> None:
    """Given an authorizer that crashes, when called twice on one keep-alive connection, then both get a 500 answer."""
    import http.client

    host, port = stack.api_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        for _ in range(2):
            connection.request("GET", "/builtin", headers={"Authorization": "crash"})
            response = connection.getresponse()
            assert (response.status, json.loads(response.read())) == (500, {"message": None})
    finally:
        connection.close()


def test_the_builtin_authorizer_can_be_invoked_by_name(stack: Devstack) -> None:
    """Given the built-in authorizer, when invoked by name with a TOKEN event, then its policy comes back."""
    event = {
        "type": "TOKEN",
        "authorizationToken": "allow",
        "methodArn": "arn:aws:execute-api:eu-west-1:1:a/api/GET/builtin",
    }

    reply = stack.client("lambda").invoke(FunctionName="gate", Payload=json.dumps(event))

    policy = json.loads(reply["Payload"].read())
    assert policy["principalId"] == "gate-user"
    assert policy["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_a_devstack_token_passes_the_cognito_authorizer(stack: Devstack) -> None:
    """Given a user signed in with cognito_token, when they call with their id token, then the route sees them."""
    token = cognito_token(stack, "ada")

    reply = stack.api("GET", "/cognito", headers={"Authorization": token})

    assert (reply.status, reply.body) == (200, {"username": "ada"})


def test_claims_reach_the_route_as_api_gateway_hands_them_over(stack: Devstack) -> None:
    """Given a user in two groups, when they call, then the route gets only claims, every one a string."""
    token = cognito_token(stack, "grace", groups=["admin", "staff"])

    reply = stack.api("GET", "/claims", headers={"Authorization": f"Bearer {token}"})

    assert reply.status == 200
    assert list(reply.body) == ["claims"]  # no principalId: that is a Lambda authorizer's
    claims = reply.body["claims"]
    assert sorted(claims["cognito:groups"].split(",")) == ["admin", "staff"]  # one string, comma-separated
    assert (claims["cognito:username"], claims["token_use"]) == ("grace", "id")
    assert all(isinstance(value, str) for value in claims.values())
    assert re.fullmatch(r"[A-Z][a-z]{2} [A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} UTC \d{4}", claims["exp"])
    assert claims["auth_time"].isdigit()


def test_a_token_carries_exactly_the_groups_asked_for(stack: Devstack) -> None:
    """Given an admin token for a user, when a token without groups is asked next, then it carries no group."""
    admin = stack.api("GET", "/claims", headers={"Authorization": cognito_token(stack, "lin", groups=["admin"])})
    plain = stack.api("GET", "/claims", headers={"Authorization": cognito_token(stack, "lin")})

    assert admin.body["claims"]["cognito:groups"] == "admin"
    assert "cognito:groups" not in plain.body["claims"]


def devstack_token(stack: Devstack, *args: str) -> subprocess.CompletedProcess[str]:
    """`devstack token ARGS` for the gateway app's running devstack."""
    return devstack_command(GATEWAY, "token", *args, "--region", TEST_REGION, *port_flag(stack))


def test_devstack_token_prints_only_a_token_the_authorizer_takes(stack: Devstack) -> None:
    """Given the running gateway app, when `devstack token` asks for an admin, then stdout is the token, whole."""
    result = devstack_token(stack, "hopper", "--group", "admin")

    assert (result.returncode, result.stderr) == (0, "")
    token = result.stdout.removesuffix("\n")
    assert "\n" not in token  # TOKEN=$(devstack token hopper) is the token and nothing else
    reply = stack.api("GET", "/claims", headers={"Authorization": token})
    assert reply.status == 200
    assert (reply.body["claims"]["cognito:username"], reply.body["claims"]["cognito:groups"]) == ("hopper", "admin")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--pool", "Members"], "devstack: no user pool 'Members' on the devstack (its pools: eu-west-1_Users"),
        (["--group", "owners"], "devstack: user pool eu-west-1_Users has no group owners (its groups: admin, staff)"),
    ],
    ids=["unknown pool", "unknown group"],
)
def test_devstack_token_for_what_the_pool_lacks_is_one_line_and_exit_2(
    stack: Devstack, flags: list[str], message: str
) -> None:
    """Given the running gateway app, when the pool or group named does not exist, then one line says what does."""
    result = devstack_token(stack, "hopper", *flags)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


HOSTILE_TOKENS: dict[str, Callable[[UserPool], str | None]] = {
    "missing": lambda pool: None,
    "empty bearer": lambda pool: "Bearer ",
    "malformed": lambda pool: "not-a-jwt",
    "malformed parts": lambda pool: "a.b.c",
    "expired": lambda pool: pool.forge(exp=int(time.time()) - 60),
    "wrong issuer": lambda pool: pool.forge(iss=f"https://cognito-idp.{TEST_REGION}.amazonaws.com/{TEST_REGION}_Other"),
    "wrong audience": lambda pool: pool.forge(aud="not-a-client-of-the-pool"),
    "alg none": lambda pool: pool.unsigned(),
    "HS256 with the public key": lambda pool: pool.signed_with_public_key_as_secret(),
    "tampered payload": lambda pool: pool.tampered(),
    "access token": lambda pool: pool.forge(token_use="access", aud=None, client_id=pool.client_id),
}


@pytest.mark.parametrize("make", HOSTILE_TOKENS.values(), ids=HOSTILE_TOKENS.keys())
def test_a_hostile_token_is_refused_as_api_gateway_refuses_it(
    stack: Devstack, pool: UserPool, make: Callable[[UserPool], str | None]
) -> None:
    """Given a token wrong in one way, when used on a Cognito route, then the answer is API Gateway's 401 JSON."""
    token = make(pool)

    reply = stack.api("GET", "/cognito", headers={"Authorization": token} if token is not None else {})

    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})


def test_a_forged_token_without_a_flaw_passes_so_each_refusal_is_for_its_own_flaw(
    stack: Devstack, pool: UserPool
) -> None:
    """Given a token signed like the hostile ones but correct, when used, then it passes."""
    reply = stack.api("GET", "/cognito", headers={"Authorization": f"Bearer {pool.forge()}"})

    assert (reply.status, reply.body) == (200, {"username": "ada"})


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"token_use": "access", "scope": "gateway/read", "username": "ada"}, 200),
        ({"token_use": "access", "scope": "aws.cognito.signin.user.admin", "username": "ada"}, 401),
        ({}, 401),  # an id token
    ],
    ids=["access token with the scope", "access token without it", "id token"],
)
def test_a_route_with_scopes_takes_access_tokens_holding_one(
    stack: Devstack, pool: UserPool, changes: dict[str, object], status: int
) -> None:
    """Given a route with an authorization scope, when called with each kind of token, then only a scoped one passes."""
    claims = {"aud": None, "client_id": pool.client_id, **changes} if changes else {}

    reply = stack.api("GET", "/scoped", headers={"Authorization": pool.forge(**claims)})

    assert reply.status == status


@pytest.mark.parametrize(
    ("token", "status", "body"),
    [
        ("letmein", 200, {"checked_by": "token_check", "principalId": "token-user"}),
        ("nope", 401, {"message": "Unauthorized"}),
        (None, 401, {"message": "Unauthorized"}),
    ],
)
def test_a_custom_authorizer_of_this_app_is_called_and_its_policy_honoured(
    stack: Devstack, token: str | None, status: int, body: object
) -> None:
    """Given a custom TOKEN authorizer that is one of the app's functions, when called, then its answer decides."""
    reply = stack.api("GET", "/custom", headers={"Authorization": token} if token else {})

    assert (reply.status, reply.body) == (status, body)


def test_a_custom_authorizer_outside_the_app_answers_500(stack: Devstack) -> None:
    """Given a custom authorizer whose function is not in the app, when called, then API Gateway's 500 JSON is sent."""
    reply = stack.api("GET", "/foreign", headers={"Authorization": "anything"})

    assert (reply.status, reply.body) == (500, {"message": None})
    assert stack.wait_until(lambda: any("another-app-check" in line for line in stack.output))
