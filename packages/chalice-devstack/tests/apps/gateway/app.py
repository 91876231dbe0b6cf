"""A small generic Chalice app for devstack's API and control-plane tests.

Routes protected by each authorizer kind (built-in, Cognito user pool, custom TOKEN authorizer
that is one of this app's functions, and one that is not), plain Lambda functions, a function
whose return value cannot be serialised, a queue consumer and a schedule.
"""

import os
from datetime import UTC, datetime
from typing import Any

from chalice import AuthResponse, Chalice, CognitoUserPoolAuthorizer, CustomAuthorizer, Rate

app = Chalice(app_name="gateway")

REGION = os.environ.get("AWS_REGION", "us-east-1")
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function"


def lambda_authorizer_uri(function_arn: str) -> str:
    """The URI API Gateway calls a Lambda authorizer by."""
    return f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{function_arn}/invocations"


pool = CognitoUserPoolAuthorizer("pool", provider_arns=[os.environ["GATEWAY_USER_POOL_ARN"]])
token_authorizer = CustomAuthorizer(
    "token", authorizer_uri=lambda_authorizer_uri(f"{FUNCTION_ARN}:gateway-dev-token_check")
)
foreign_authorizer = CustomAuthorizer(
    "foreign", authorizer_uri=lambda_authorizer_uri(f"{FUNCTION_ARN}:another-app-check")
)


@app.authorizer()
def gate(auth_request: Any) -> AuthResponse:
    """Allow the token 'allow', refuse 'deny' by policy, crash on 'crash', reject anything else."""
    if auth_request.token == "crash":
        raise RuntimeError("the authorizer has a bug")
    if auth_request.token == "deny":
        return AuthResponse(routes=[], principal_id="nobody")
    if auth_request.token != "allow":
        raise Exception("Unauthorized")  # API Gateway's convention for a 401
    return AuthResponse(routes=["/builtin"], principal_id="gate-user", context={"tier": "gold"})


@app.lambda_function(name="token_check")
def token_check(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """A custom TOKEN authorizer: allow 'letmein' for the method asked, reject the rest."""
    if event["authorizationToken"] != "letmein":
        raise Exception("Unauthorized")
    statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [event["methodArn"]]}
    return {
        "principalId": "token-user",
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        "context": {"checked_by": "token_check"},
    }


def caller() -> dict[str, Any]:
    """What the authorizer told the route about the caller."""
    request = app.current_request
    assert request is not None
    authorizer: dict[str, Any] = request.context.get("authorizer", {})
    return authorizer


@app.route("/open")
def open_route() -> dict[str, Any]:
    """No authorizer."""
    return {"open": True}


@app.route("/builtin", authorizer=gate)
def builtin_route() -> dict[str, Any]:
    """Behind the built-in authorizer."""
    return caller()


@app.route("/cognito", authorizer=pool)
def cognito_route() -> dict[str, Any]:
    """Behind the Cognito user pool authorizer."""
    return {"username": caller()["claims"]["cognito:username"]}


@app.route("/claims", authorizer=pool)
def claims_route() -> dict[str, Any]:
    """Behind the Cognito user pool authorizer: what the route sees of the caller, whole."""
    return caller()


@app.route("/scoped", authorizer=pool.with_scopes(["gateway/read"]))
def scoped_route() -> dict[str, Any]:
    """Behind the Cognito user pool authorizer with an authorization scope (access tokens only)."""
    return {"username": caller()["claims"]["username"]}


@app.route("/custom", authorizer=token_authorizer)
def custom_route() -> dict[str, Any]:
    """Behind a custom authorizer that is a function of this app."""
    return caller()


@app.route("/foreign", authorizer=foreign_authorizer)
def foreign_route() -> dict[str, Any]:
    """Behind a custom authorizer that is not a function of this app."""
    return caller()


@app.lambda_function(name="shout")
def shout(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Print a line (for the invocation's log) and answer in capitals."""
    print(f"{os.environ['GREETING']} from shout: {event.get('text', '')}")
    return {"text": str(event.get("text", "")).upper()}


@app.lambda_function(name="clock")
def clock(event: Any, context: Any) -> dict[str, Any]:
    """Return a datetime, which Lambda cannot serialise."""
    return {"now": datetime.now(UTC)}


@app.on_sqs_message(queue="gateway-jobs", batch_size=3)
def consume(event: Any) -> dict[str, Any]:
    """Accept every message."""
    return {"batchItemFailures": []}


@app.schedule(Rate(12, unit=Rate.HOURS))
def tidy(event: Any) -> None:
    """A schedule (never due during a test)."""
