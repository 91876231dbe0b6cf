"""The packaged API signs callers in: every route but the public ones has the stack's user pool authorizer."""

import json
from pathlib import Path
from typing import Any

# Routes anyone may call: liveness for probes and load balancers.
PUBLIC = {("/health", "get")}


def api_definition(template_only: Path) -> dict[str, Any]:
    """The packaged REST API's OpenAPI definition (API Gateway's view of the routes)."""
    definition: dict[str, Any] = json.loads(template_only.read_text())["Resources"]["RestAPI"]["Properties"][
        "DefinitionBody"
    ]
    return definition


def test_every_route_but_the_public_ones_needs_a_token_of_the_stacks_user_pool(template_only: Path) -> None:
    # Given the packaged API
    definition = api_definition(template_only)
    routes = {
        (path, method): operation
        for path, item in definition["paths"].items()
        for method, operation in item.items()
        if method != "options"  # CORS preflights carry no token, on any API
    }
    # Then every route but the public ones requires the UserPool authorizer, and the public ones require nothing
    unsigned = {route for route, operation in routes.items() if {"UserPool": []} not in operation.get("security", [])}
    assert unsigned == PUBLIC
    assert all("security" not in routes[route] for route in PUBLIC)
    # And the authorizer trusts this stack's pool, not the local one the app names
    authorizer = definition["securityDefinitions"]["UserPool"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "cognito_user_pools"
    assert authorizer["providerARNs"] == [{"Fn::GetAtt": ["UserPool", "Arn"]}]
