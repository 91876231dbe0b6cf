"""Step Functions' Lambda tasks call the Lambda route in-process: the request it sees, the answer botocore gives."""

import json
from collections.abc import Iterable
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import HeadersDict
from botocore.exceptions import ClientError
from botocore.parsers import RestJSONParser

from chalice_devstack.task_invoker import LambdaRoute

ARN = "arn:aws:lambda:us-east-1:123456789012:function:svc-dev-charge"


class Route:
    """A WSGI app standing in for devstack's Lambda route: keeps the environ, answers as told."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.answer = (status, headers, body)
        self.seen: dict[str, Any] = {}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.seen = {**environ, "body": environ["wsgi.input"].read()}
        status, headers, body = self.answer
        start_response(status, headers)
        return [body]


def botocore_parsed(status: int, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What botocore's own parser makes of a Lambda Invoke answer."""
    model = botocore.session.get_session().get_service_model("lambda").operation_model("Invoke")
    response = {"status_code": status, "headers": HeadersDict(headers), "body": body}
    parsed: dict[str, Any] = RestJSONParser().parse(response, model.output_shape)
    return parsed


def test_a_task_invocation_reaches_the_route_as_botocore_would_send_it() -> None:
    """Given a task's invoke, the route sees the function's path, the invocation headers and the payload."""
    route = Route("200 OK", [("X-Amz-Executed-Version", "$LATEST")], b'{"charged": true}')

    answer = LambdaRoute(route).invoke(FunctionName=ARN, Payload=b'{"order": 1}', InvocationType="RequestResponse")

    assert route.seen["REQUEST_METHOD"] == "POST"
    assert route.seen["PATH_INFO"] == f"/2015-03-31/functions/{ARN}/invocations"
    assert (
        route.seen["RAW_URI"]
        == "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Asvc-dev-charge/invocations"
    )
    assert route.seen["HTTP_X_AMZ_INVOCATION_TYPE"] == "RequestResponse"
    assert route.seen["body"] == b'{"order": 1}'
    assert json.load(answer.pop("Payload")) == {"charged": True}
    assert answer == {"StatusCode": 200, "ExecutedVersion": "$LATEST"}


def test_a_function_error_reads_as_botocore_reads_it() -> None:
    """Given a function that raised, the answer names the error the way botocore's parsed answer does."""
    headers = {"X-Amz-Function-Error": "Unhandled", "X-Amz-Executed-Version": "$LATEST"}
    body = b'{"errorMessage": "declined", "errorType": "PaymentDeclined"}'

    answer = LambdaRoute(Route("200 OK", list(headers.items()), body)).invoke(FunctionName=ARN, Payload="{}")
    expected = botocore_parsed(200, headers, body)

    assert answer["FunctionError"] == expected["FunctionError"] == "Unhandled"
    assert answer["Payload"].read() == body


@pytest.mark.parametrize(
    ("status", "error_type", "message"),
    [(429, "TooManyRequestsException", "Rate Exceeded."), (404, "ResourceNotFoundException", "Function not found")],
)
def test_an_error_answer_raises_the_client_error_botocore_raises(status: int, error_type: str, message: str) -> None:
    """Given the route answers an error, the task gets ClientError with botocore's code and message."""
    headers = {"x-amzn-ErrorType": error_type}
    body = json.dumps({"Type": "User", "message": message}).encode()
    route = Route(f"{status} Error", list(headers.items()), body)

    with pytest.raises(ClientError) as raised:
        LambdaRoute(route).invoke(FunctionName=ARN, Payload=b"{}")
    expected = botocore_parsed(status, headers, body)["Error"]

    assert raised.value.response["Error"] == {"Code": expected["Code"], "Message": expected["Message"]}
