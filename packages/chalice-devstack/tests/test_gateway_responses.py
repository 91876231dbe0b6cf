"""The RestAPI's GatewayResponses shape the local gateway's 401 and 403 (tests/apps/gateway, with responses declared).

The gateway app itself declares none: tests/test_gateway.py shows API Gateway's default bodies staying.
"""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from chalice.local import ForbiddenError, NotAuthorizedError

from chalice_devstack.gateway_responses import gateway_response, render
from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, running_devstack
from tests.conftest import TEST_REGION
from tests.gateway_app import GATEWAY

UNAUTHORIZED_TEMPLATE = (
    '{"error": {"code": "unauthorized", "why": $context.error.messageString, "id": "$context.requestId"}}'
)
FALLBACK_TEMPLATE = '{"kind": "$context.error.responseType", "why": "$context.error.message"}'
DECLARED = {
    "UNAUTHORIZED": {
        "StatusCode": 401,
        "ResponseParameters": {"Headers": {"WWW-Authenticate": "'Bearer'", "X-Echo": "method.request.header.X-Echo"}},
        "ResponseTemplates": {"application/json": UNAUTHORIZED_TEMPLATE},
    },
    "DEFAULT_4XX": {"ResponseTemplates": {"application/json": FALLBACK_TEMPLATE}},
}


def with_responses(responses: dict[str, Any]) -> dict[str, Any]:
    """A resources template whose RestAPI declares these GatewayResponses."""
    return {"Resources": {"RestAPI": {"Properties": {"GatewayResponses": responses}}}}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Devstack]:
    """Given: the gateway app on devstack, its RestAPI declaring UNAUTHORIZED and DEFAULT_4XX responses."""
    root = tmp_path_factory.mktemp("declared") / "gateway"
    shutil.copytree(GATEWAY, root, ignore=shutil.ignore_patterns("__pycache__", "deployments"))
    resources_file = root / "infra" / "resources.yaml"
    resources = yaml.safe_load(resources_file.read_text())
    resources["Resources"].update(with_responses(DECLARED)["Resources"])
    resources_file.write_text(yaml.safe_dump(resources))
    with running_devstack(Project.at(Path(root)), "dev", TEST_REGION) as running:
        yield running


@pytest.mark.parametrize(
    ("path", "token"), [("/cognito", None), ("/cognito", "not-a-token"), ("/builtin", None), ("/builtin", "wrong")]
)
def test_a_rejected_token_answers_the_declared_unauthorized_response(
    stack: Devstack, path: str, token: str | None
) -> None:
    """Given a declared UNAUTHORIZED response, when a token is missing or bad, then its template and headers answer."""
    reply = stack.api("GET", path, headers={"Authorization": token} if token else {})

    request_id = reply.headers["x-amzn-RequestId"]
    expected = {"error": {"code": "unauthorized", "why": "Unauthorized", "id": request_id}}
    assert (reply.status, reply.body) == (401, expected)
    assert request_id and reply.headers["WWW-Authenticate"] == "Bearer"
    assert "X-Echo" not in reply.headers  # a request mapping, not a static value


def test_a_denied_policy_falls_back_to_the_declared_default_4xx(stack: Devstack) -> None:
    """Given DEFAULT_4XX and no ACCESS_DENIED response, when a policy denies the route, then DEFAULT_4XX answers."""
    reply = stack.api("GET", "/builtin", headers={"Authorization": "deny"})

    assert (reply.status, reply.body) == (
        403,
        {"kind": "ACCESS_DENIED", "why": "User is not authorized to access this resource"},
    )


def test_an_authorized_request_is_untouched(stack: Devstack) -> None:
    """Given declared responses, when the token is allowed, then the route's own answer comes back."""
    assert stack.api("GET", "/builtin", headers={"Authorization": "allow"}).status == 200


def test_without_a_declaration_the_default_answer_stays() -> None:
    """Given a RestAPI without GatewayResponses, when a token is rejected, then API Gateway's default is the answer."""
    error = NotAuthorizedError({"x-amzn-RequestId": "r-1"}, b'{"message":"Unauthorized"}')

    undeclared: list[dict[str, Any]] = [
        {"Resources": {}},
        with_responses({}),
        with_responses({"ACCESS_DENIED": {"StatusCode": 418}}),
    ]
    for resources in undeclared:
        assert gateway_response(error, resources) is error


def test_a_declared_status_code_and_response_type_win_over_the_fallback() -> None:
    """Given ACCESS_DENIED and DEFAULT_4XX, when a policy denies, then ACCESS_DENIED's own status and body answer."""
    error = ForbiddenError({"x-amzn-RequestId": "r-2"}, b'{"Message":"User is not authorized to access this resource"}')
    declared = {"ACCESS_DENIED": {"StatusCode": "404", "ResponseTemplates": {"application/json": "{}"}}, **DECLARED}

    answer = gateway_response(error, with_responses(declared))

    assert (answer.CODE, json.loads(answer.body or b"")) == (404, {})


def test_unknown_variables_stay_as_written_and_braces_are_understood() -> None:
    """Given a template with a braced and an unknown variable, then the known one is filled, the other kept."""
    rendered = render("${context.requestId}.$context.identity.sourceIp.", {"requestId": "r-3"})

    assert rendered == "r-3.$context.identity.sourceIp."
