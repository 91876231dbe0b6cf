"""The local API Gateway on devstack: every authorizer kind answers as API Gateway does (tests/apps/gateway).

One devstack (a child process) serves the module; each test calls the API over HTTP like a client.
"""

import json
import time
from collections.abc import Iterator

import pytest

from chalice_devstack.testing import Devstack
from tests.gateway_app import UserPool, gateway_devstack


@pytest.fixture(scope="module")
def stack() -> Iterator[Devstack]:
    """Given: the gateway app running on devstack."""
    with gateway_devstack() as running:
        yield running


@pytest.fixture(scope="module")
def pool(stack: Devstack) -> UserPool:
    """Given: the user pool the app's Cognito authorizer names, with a client and a user."""
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


def test_a_cognito_id_token_from_the_pool_is_accepted(stack: Devstack, pool: UserPool) -> None:
    """Given a user signed in to the pool, when they call with their id token, then the route sees their claims."""
    tokens = pool.sign_in()

    reply = stack.api("GET", "/cognito", headers={"Authorization": tokens["IdToken"]})

    assert (reply.status, reply.body) == (200, {"username": "ada"})


@pytest.mark.parametrize(
    "changes",
    [
        {"exp": int(time.time()) - 60},  # expired
        {"aud": "not-a-client-of-the-pool"},
        {"iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"},
    ],
    ids=["expired", "audience", "issuer"],
)
def test_a_cognito_token_failing_one_check_is_refused(
    stack: Devstack, pool: UserPool, changes: dict[str, object]
) -> None:
    """Given a moto-signed token wrong in one way, when used, then the answer is 401 JSON."""
    reply = stack.api("GET", "/cognito", headers={"Authorization": pool.forge(**changes)})

    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})


def test_a_cognito_token_with_a_bad_signature_is_refused(stack: Devstack, pool: UserPool) -> None:
    """Given a valid token whose payload was altered, when used, then the answer is 401 JSON."""
    header, payload, signature = pool.forge().split(".")
    tampered = f"{header}.{pool.forge(**{'cognito:username': 'eve'}).split('.')[1]}.{signature}"

    reply = stack.api("GET", "/cognito", headers={"Authorization": tampered})

    assert (reply.status, reply.body) == (401, {"message": "Unauthorized"})
    assert payload != tampered.split(".")[1]


def test_a_valid_forged_token_is_accepted_so_the_refusals_above_are_each_for_their_own_check(
    stack: Devstack, pool: UserPool
) -> None:
    """Given a token signed like the refused ones but correct, when used, then it passes."""
    reply = stack.api("GET", "/cognito", headers={"Authorization": f"Bearer {pool.forge()}"})

    assert (reply.status, reply.body) == (200, {"username": "ada"})


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
