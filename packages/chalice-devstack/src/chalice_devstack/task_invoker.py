"""moto's Step Functions tasks invoke devstack's Lambda route directly, not over HTTP through botocore.

moto's interpreter runs a Lambda task with a boto3 client pointed at the endpoint: botocore builds and
signs the request, the endpoint's own server parses it and hands it to devstack's Lambda route (the relay
to the functions' process, or the control app in one process), and botocore parses the answer back, all
in the endpoint's process: about a tenth of its CPU in an orders burst. `LambdaRoute.invoke` makes the
same request to the same route as one WSGI call and answers what botocore's `invoke` answers (a status
of 400 or more raises botocore's ClientError with the route's error type and message).
"""

import io
import json
from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from chalice_devstack.endpoint import WSGIApp

INVOKE_PATH = "/2015-03-31/functions/{}/invocations"
# boto3's Invoke parameters sent as headers, and their WSGI environ names (X-Amz-Invocation-Type...).
INPUT_HEADERS = {"InvocationType": "INVOCATION_TYPE", "LogType": "LOG_TYPE", "ClientContext": "CLIENT_CONTEXT"}
# botocore's Invoke output members and the answer headers they come from.
OUTPUT_HEADERS = {
    "FunctionError": "x-amz-function-error",
    "LogResult": "x-amz-log-result",
    "ExecutedVersion": "x-amz-executed-version",
}


class LambdaRoute:
    """A stand-in for a boto3 Lambda client with only `invoke`, answered by devstack's Lambda route."""

    def __init__(self, route: WSGIApp) -> None:
        self.route = route

    def invoke(self, **parameters: Any) -> dict[str, Any]:
        """Invoke as boto3's `invoke(FunctionName=..., Payload=..., ...)`; its answer, or ClientError for an error."""
        name, payload, qualifier = parameters["FunctionName"], parameters.get("Payload"), parameters.get("Qualifier")
        body = payload.encode() if isinstance(payload, str) else payload or b""
        headers = {header: parameters.get(member) for member, header in INPUT_HEADERS.items()}
        query = f"Qualifier={quote(qualifier)}" if qualifier else ""
        raw_path = INVOKE_PATH.format(quote(name, safe=""))
        environ = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": INVOKE_PATH.format(name),  # decoded, as a WSGI server gives it
            "QUERY_STRING": query,
            "RAW_URI": f"{raw_path}?{query}" if query else raw_path,  # what the relay to the functions' process sends
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            **{f"HTTP_X_AMZ_{header}": value for header, value in headers.items() if value is not None},
        }
        status, answer_headers, data = self._call(environ)
        if status >= 400:
            raise ClientError(_error(status, answer_headers, data), "Invoke")
        parsed: dict[str, Any] = {"StatusCode": status, "Payload": io.BytesIO(data)}
        parsed |= {member: answer_headers[name] for member, name in OUTPUT_HEADERS.items() if name in answer_headers}
        return parsed

    def _call(self, environ: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        """One WSGI call of the route: status, headers (lower-case names) and body."""
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split(" ", 1)[0]), headers

        data = b"".join(self.route(environ, start_response))
        return answer["status"], {name.lower(): value for name, value in answer["headers"]}, data


def _error(status: int, headers: dict[str, str], data: bytes) -> dict[str, Any]:
    """A ClientError's response, as botocore reads a Lambda error (type in x-amzn-ErrorType, message in the body)."""
    try:
        body = json.loads(data) if data else {}
    except ValueError:
        body = {}
    message = (body.get("message") or body.get("Message") or "") if isinstance(body, dict) else ""
    code = headers.get("x-amzn-errortype", "").split(":", 1)[0] or str(status)
    return {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
