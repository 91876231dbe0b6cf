"""API Gateway's authorizers for the local API: built-in (`@app.authorizer`), Cognito user pools, custom (TOKEN).

chalice local runs built-in authorizers in-process and lets Cognito and custom ones through
unchecked; an authorizer that raises drops the connection. Here every kind answers as API
Gateway does: a missing token or a raised "Unauthorized" is 401 `{"message": "Unauthorized"}`,
a policy that does not allow the route is 403, any other authorizer failure is 500
`{"message": null}` (AuthorizerConfigurationException); the RestAPI's GatewayResponses may reshape the 401
and 403 (devstack.gateway_responses, applied where the API answers). Built-in and custom authorizer functions
run through the function registry, so they get a Lambda context, a console line and a log.
"""

import logging
import re
from collections.abc import Collection
from typing import Any

from chalice.app import Chalice, ChaliceAuthorizer, CognitoUserPoolAuthorizer, CustomAuthorizer
from chalice.local import (
    ForbiddenError,
    InvalidAuthorizerError,
    LambdaContext,
    LocalAuthPair,
    LocalGatewayAuthorizer,
    LocalGatewayException,
    NotAuthorizedError,
)

from chalice_devstack.cognito import CognitoVerifier, InvalidToken, gateway_claims
from chalice_devstack.functions import FunctionRegistry

log = logging.getLogger("devstack")

# arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<function ARN>/invocations
_AUTHORIZER_URI = re.compile(r"/functions/(?P<arn>arn:[^/]+)/invocations$")


def unknown_user_pools(app: Chalice, provisioned_arns: Collection[str]) -> list[str]:
    """One line per user pool ARN an authorizer names that is not provisioned (every token for it would be 401)."""
    named = {
        (route.authorizer.name, arn)
        for methods in app.routes.values()
        for route in methods.values()
        if isinstance(route.authorizer, CognitoUserPoolAuthorizer)
        for arn in route.authorizer._provider_arns
    }
    return [
        f"authorizer {name!r} names user pool {arn}, which the resources file does not provision "
        f"(its pools: {', '.join(sorted(provisioned_arns)) or 'none'}); its routes will answer 401"
        for name, arn in sorted(named)
        if arn not in provisioned_arns
    ]


def unauthorized(context: LambdaContext) -> NotAuthorizedError:
    """401, as API Gateway answers a missing or rejected token."""
    headers = {"x-amzn-RequestId": context.aws_request_id, "x-amzn-ErrorType": "UnauthorizedException"}
    return NotAuthorizedError(headers, b'{"message":"Unauthorized"}')


def misconfigured(context: LambdaContext) -> InvalidAuthorizerError:
    """500, as API Gateway answers an authorizer that failed or returned nothing usable."""
    headers = {"x-amzn-RequestId": context.aws_request_id, "x-amzn-ErrorType": "AuthorizerConfigurationException"}
    return InvalidAuthorizerError(headers, b'{"message":null}')


def forbidden(context: LambdaContext) -> ForbiddenError:
    """403, as API Gateway answers a policy that does not allow the route."""
    headers = {"x-amzn-RequestId": context.aws_request_id, "x-amzn-ErrorType": "AccessDeniedException"}
    return ForbiddenError(headers, b'{"Message":"User is not authorized to access this resource"}')


class UserPoolAuthorizer(LocalGatewayAuthorizer):
    """chalice's local authorizer, with Cognito user pool routes checked as API Gateway checks them.

    chalice.test.Client's own lets any Cognito request through with the token's raw claims; this one
    answers 401 for a missing or bad token and gives the route API Gateway's string claims.
    """

    def __init__(self, app: Chalice, cognito: CognitoVerifier) -> None:
        super().__init__(app)
        self.cognito = cognito

    def authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> LocalAuthPair:
        """Authorize one request; raise the LocalGatewayException API Gateway's answer maps to."""
        route = self._route_for_event(lambda_event)
        if route is not None and isinstance(route.authorizer, CognitoUserPoolAuthorizer):
            return self._cognito(route.authorizer, lambda_event, lambda_context), lambda_context
        return super().authorize(raw_path, lambda_event, lambda_context)

    def _token(self, header: str | None, lambda_event: Any, context: LambdaContext) -> str:
        """The identity source (the authorizer's header); 401 when it is missing or empty."""
        token = lambda_event.get("headers", {}).get((header or "Authorization").lower())
        if not token:
            raise unauthorized(context)
        return str(token)

    def _cognito(self, authorizer: CognitoUserPoolAuthorizer, lambda_event: Any, context: LambdaContext) -> Any:
        """A user pool authorizer: the token checked as API Gateway checks it; its claims, as strings, for the route."""
        token = self._token(authorizer._header, lambda_event, context)
        try:
            claims = self.cognito.claims(token, authorizer._provider_arns, authorizer.scopes)
        except InvalidToken as error:
            log.info("cognito authorizer %s: 401: %s", authorizer.name, error)
            raise unauthorized(context) from None
        # API Gateway gives a Cognito-authorized request its claims only (no principalId, which is a Lambda
        # authorizer's), every value a string: `cognito:groups` arrives as "admin,staff", not a list.
        lambda_event["requestContext"]["authorizer"] = {"claims": gateway_claims(claims)}
        return lambda_event


class GatewayAuthorizer(UserPoolAuthorizer):
    """Runs a route's authorizer like API Gateway; never lets an authorizer's failure escape as a crash."""

    def __init__(self, registry: FunctionRegistry, cognito: CognitoVerifier) -> None:
        super().__init__(registry.app, cognito)
        self.registry = registry

    def authorize(self, raw_path: str, lambda_event: Any, lambda_context: LambdaContext) -> LocalAuthPair:
        """Authorize one request; raise the LocalGatewayException API Gateway's answer maps to."""
        route = self._route_for_event(lambda_event)
        authorizer = route.authorizer if route else None
        try:
            if isinstance(authorizer, ChaliceAuthorizer | CustomAuthorizer):
                return self._lambda(authorizer, raw_path, lambda_event, lambda_context), lambda_context
            return super().authorize(raw_path, lambda_event, lambda_context)  # Cognito; none or IAM: chalice's way
        except LocalGatewayException:
            raise
        except Exception as error:  # whatever broke, the client gets API Gateway's 500, not a dropped connection
            log.warning("authorizer of %s failed: %s: %s", raw_path, type(error).__name__, error)
            raise misconfigured(lambda_context) from None

    def _lambda(
        self, authorizer: ChaliceAuthorizer | CustomAuthorizer, raw_path: str, lambda_event: Any, context: LambdaContext
    ) -> Any:
        """A TOKEN authorizer function: call it through the registry and honour the policy it returns."""
        header = authorizer.config.header if isinstance(authorizer, ChaliceAuthorizer) else authorizer._header
        token = self._token(header, lambda_event, context)
        method_arn = self._arn_builder.build_arn(lambda_event["requestContext"]["httpMethod"], raw_path)
        event = {"type": "TOKEN", "authorizationToken": token, "methodArn": method_arn}
        result = self.registry.invoke(self._function_of(authorizer), event, f"authorizer:{authorizer.name}")
        if not result.ok:
            # API Gateway's rule: a TOKEN authorizer that fails with "Unauthorized" means 401.
            raise unauthorized(context) if result.error_message == "Unauthorized" else misconfigured(context)
        policy = result.payload
        if not isinstance(policy, dict) or "principalId" not in policy:
            raise misconfigured(context)
        if not self._check_can_invoke_view_function(method_arn, policy):
            raise forbidden(context)
        return self._update_lambda_event(lambda_event, {**policy, "context": dict(policy.get("context") or {})})

    def _function_of(self, authorizer: ChaliceAuthorizer | CustomAuthorizer) -> str:
        """The registry function behind an authorizer (a custom one must be a function of this app)."""
        if isinstance(authorizer, ChaliceAuthorizer):
            return authorizer.name
        match = _AUTHORIZER_URI.search(authorizer._authorizer_uri)
        arn = match["arn"] if match else authorizer._authorizer_uri
        self.registry.resolve(arn)  # FunctionNotFound (-> 500) names the app's functions
        return arn
