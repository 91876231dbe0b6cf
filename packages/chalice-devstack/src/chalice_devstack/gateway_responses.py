"""API Gateway's gateway responses for the local API: a RestAPI's `GatewayResponses` shape its 401 and 403.

API Gateway answers a request its authorizer rejects without calling the function: 401 UNAUTHORIZED
(a missing or rejected token) and 403 ACCESS_DENIED (a policy that does not allow the route). A REST
API can replace those answers per response type (status code, static headers, a body template), with
DEFAULT_4XX standing in for any 4xx type it does not declare; SAM's AWS::Serverless::Api declares them
as `GatewayResponses`. devstack reads them from the resources file's RestAPI (the resource `chalice
package` generates, which --merge-template patches) and fills the application/json template's $context
variables as API Gateway does for a gateway response. Without a declaration, API Gateway's default stays.
"""

import json
import re
from typing import Any

from chalice.local import ForbiddenError, LocalGatewayException, NotAuthorizedError

REST_API = "RestAPI"  # the logical id `chalice package` gives the app's REST API
FALLBACK = "DEFAULT_4XX"
RESPONSE_TYPES: dict[type[LocalGatewayException], str] = {
    NotAuthorizedError: "UNAUTHORIZED",
    ForbiddenError: "ACCESS_DENIED",
}
# `$context.requestId` or `${context.requestId}`; a name never ends with the dot that may follow it.
_VARIABLE = re.compile(r"\$(?:\{context\.(?P<braced>[\w.]+)\}|context\.(?P<bare>\w+(?:\.\w+)*))")
_STATIC = re.compile(r"^'(?P<value>.*)'$", re.DOTALL)  # a quoted value is static; others map request values


def declared_responses(resources: dict[str, Any]) -> dict[str, Any]:
    """The RestAPI's GatewayResponses in a resources template, by response type (none: {})."""
    api = (resources.get("Resources") or {}).get(REST_API) or {}
    return dict((api.get("Properties") or {}).get("GatewayResponses") or {})


def gateway_response(error: LocalGatewayException, resources: dict[str, Any]) -> LocalGatewayException:
    """The gateway's error answer as the RestAPI's declared response for its type renders it; unchanged without one."""
    kind = RESPONSE_TYPES.get(type(error))
    if kind is None:
        return error
    responses = declared_responses(resources)
    declaration = responses.get(kind) or responses.get(FALLBACK)
    if not declaration:
        return error
    headers = {**error.headers, **static_headers(declaration)}
    template = (declaration.get("ResponseTemplates") or {}).get("application/json")
    body = error.body if template is None else render(template, context_variables(error, kind)).encode()
    answer = type(error)(headers, body)
    answer.CODE = int(declaration.get("StatusCode") or error.CODE)
    return answer


def static_headers(declaration: dict[str, Any]) -> dict[str, str]:
    """The declaration's headers with static ('quoted') values; request mappings have no request here to map."""
    headers = (declaration.get("ResponseParameters") or {}).get("Headers") or {}
    matches = {name: _STATIC.match(str(value)) for name, value in headers.items()}
    return {name: match["value"] for name, match in matches.items() if match}


def context_variables(error: LocalGatewayException, kind: str) -> dict[str, str]:
    """The $context variables API Gateway fills in a gateway response's template."""
    message = default_message(error.body)
    return {
        "requestId": str(error.headers.get("x-amzn-RequestId", "")),
        "error.message": message,
        "error.messageString": json.dumps(message),
        "error.responseType": kind,
    }


def default_message(body: bytes | None) -> str:
    """The message of API Gateway's default body (`{"message": ...}`, `{"Message": ...}` for a 403)."""
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return ""
    message = parsed.get("message", parsed.get("Message")) if isinstance(parsed, dict) else None
    return "" if message is None else str(message)


def render(template: str, variables: dict[str, str]) -> str:
    """The template with each known $context variable filled; an unknown one stays as written, as in VTL."""

    def value(match: re.Match[str]) -> str:
        name = match["braced"] or match["bare"]
        return variables.get(name, match[0])

    return _VARIABLE.sub(value, template)
