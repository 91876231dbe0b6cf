"""devstack's function registry: names resolve like Lambda's, errors come back like Lambda's, concurrency is safe.

A tiny Chalice app of its own keeps these tests apart from the service's domain handlers.
"""

import json
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from chalice.app import AuthResponse, Chalice

from chalice_devstack.functions import API_HANDLER, FunctionNotFound, FunctionRegistry, InvocationResult
from chalice_devstack.pollers import QueueMapping, QueuePoller
from chalice_devstack.project import Project
from tests.conftest import TEST_REGION


class PaymentDeclined(Exception):
    """A business outcome the tiny project's state machine catches."""


class DomainError(Exception):
    """The base of business outcomes the tiny project declares in [tool.devstack]."""


class OutOfStock(DomainError):
    """Expected through its base class."""


def tiny_app() -> Chalice:
    """An app with one route that echoes its body late, one pure function and one that fails."""
    app = Chalice(app_name="tiny")

    @app.route("/echo", methods=["POST"])
    def echo() -> dict[str, Any]:
        time.sleep(0.05)  # long enough for a concurrent request to start meanwhile
        request = app.current_request
        assert request is not None
        body: dict[str, Any] = request.json_body
        return {"body": body, "request_id": app.lambda_context.aws_request_id}

    @app.lambda_function(name="add")
    def add(event: dict[str, int], context: Any) -> int:
        return event["a"] + event["b"]

    @app.lambda_function(name="explode")
    def explode(event: Any, context: Any) -> None:
        raise ValueError("boom")

    @app.lambda_function(name="decline")
    def decline(event: Any, context: Any) -> None:
        raise PaymentDeclined("card 4242 declined")

    @app.lambda_function(name="stockout")
    def stockout(event: Any, context: Any) -> None:
        raise OutOfStock("sku-1 has 0 left")

    @app.lambda_function(name="clock")
    def clock(event: Any, context: Any) -> dict[str, Any]:
        return {"now": datetime(2026, 1, 1, tzinfo=UTC)}  # json.dumps cannot serialise a datetime

    @app.lambda_function(name="price")
    def price(event: Any, context: Any) -> dict[str, Any]:
        return {"amount": Decimal("9.5")}  # Lambda's runtime serialises a Decimal as a number

    @app.lambda_function(name="chatty")
    def chatty(event: dict[str, Any], context: Any) -> None:
        print(f"hello {event['n']}")
        app.log.error("logged %s", event["n"])  # Chalice's app logger, its handler made at import
        time.sleep(0.02)  # overlap with the other invocations

    @app.on_sqs_message(queue="jobs", batch_size=2)
    def consume(event: Any) -> dict[str, Any]:
        return {"seen": {record.body for record in event}}  # a set: not JSON

    @app.authorizer()
    def gatekeeper(auth_request: Any) -> AuthResponse:
        return AuthResponse(routes=["/echo"], principal_id=auth_request.token)

    return app


def api_event(body: dict[str, Any]) -> dict[str, Any]:
    """An API Gateway proxy event for POST /echo."""
    return {
        "resource": "/echo",
        "path": "/echo",
        "httpMethod": "POST",
        "headers": {"content-type": "application/json"},
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"resourcePath": "/echo", "httpMethod": "POST", "requestId": "r", "path": "/echo"},
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def concurrently(count: int, call: Callable[[int], InvocationResult]) -> dict[int, InvocationResult]:
    """Run call(0..count-1) on threads at once; return each result by its number."""
    results: dict[int, InvocationResult] = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, call(n))) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    return results


@pytest.fixture
def registry(tiny_project: Project) -> FunctionRegistry:
    """Given: the tiny app's functions in a registry that prints nothing."""
    return FunctionRegistry(tiny_app(), tiny_project, "dev", TEST_REGION, echo=lambda line: None)


def test_a_function_resolves_by_name_logical_id_physical_name_and_qualified_arn(registry: FunctionRegistry) -> None:
    arn = f"arn:aws:lambda:{TEST_REGION}:123456789012:function:tiny-dev-add"
    for name in ("add", "Add", "tiny-dev-add", arn, f"{arn}:$LATEST"):
        assert registry.resolve(name).name == "add"
    with pytest.raises(FunctionNotFound, match="functions: "):
        registry.resolve("nope")


def test_invoke_returns_the_payload_and_reports_errors_as_lambda_does(registry: FunctionRegistry) -> None:
    """Given two functions, when one returns and one raises, then payload and Lambda's error body come back."""
    assert registry.invoke("add", {"a": 2, "b": 3}, "test").payload == 5
    failed = registry.invoke("explode", {}, "test")
    assert not failed.ok
    error = failed.lambda_error()
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == ("ValueError", "boom", failed.request_id)
    assert 'raise ValueError("boom")' in error["stackTrace"][-1]
    assert [r.function for r in registry.recent()] == ["add", "explode"]


def test_a_return_value_json_cannot_serialise_is_a_marshal_error(registry: FunctionRegistry) -> None:
    """Given a function returning a datetime, when invoked, then it fails with Lambda's Runtime.MarshalError."""
    result = registry.invoke("clock", {}, "test")

    assert not result.ok
    assert result.payload is None
    assert result.error_type == "Runtime.MarshalError"
    assert result.error_message == "Unable to marshal response: Object of type datetime is not JSON serializable"


def test_a_decimal_return_value_is_serialised_as_lambda_does(registry: FunctionRegistry) -> None:
    """Given a function returning a Decimal, when invoked, then it succeeds (Lambda's runtime encodes Decimals)."""
    assert registry.invoke("price", {}, "test").ok


def test_a_batch_whose_response_cannot_be_serialised_stays_on_the_queue(registry: FunctionRegistry) -> None:
    """Given an SQS handler returning a set, when its poller delivers a batch, then nothing is deleted."""
    deleted: list[Any] = []

    class Sqs:
        def delete_message_batch(self, **request: Any) -> None:
            deleted.append(request)

    mapping = QueueMapping("consume", "arn", "arn:aws:sqs:eu-west-1:123456789012:jobs", 2, 0.0, True)
    invoker: Any = registry  # pollers' Invoker protocol declares mutable fields; results are frozen
    poller = QueuePoller(mapping, invoker, lambda _service: Sqs(), TEST_REGION)
    messages = [{"MessageId": f"m{n}", "ReceiptHandle": f"r{n}", "Body": str(n)} for n in range(2)]

    failed = poller.deliver("queue-url", messages)

    assert failed is None  # the whole batch failed
    assert deleted == []
    assert registry.recent()[-1].error_type == "Runtime.MarshalError"


def test_each_invocation_log_holds_only_its_own_output(registry: FunctionRegistry) -> None:
    """Given concurrent invocations that print and log, when they end, then each log tail holds only its own lines."""
    results = concurrently(4, lambda n: registry.invoke("chatty", {"n": n}, "test"))

    for n, result in results.items():
        log = result.log_tail
        assert log.startswith(f"START RequestId: {result.request_id}")
        assert f"hello {n}\n" in log
        assert f"logged {n}" in log
        assert [line for line in log.splitlines() if line.startswith("hello")] == [f"hello {n}"]
        assert f"REPORT RequestId: {result.request_id}\tDuration: " in log
    assert len(results) == 4


def test_a_log_tail_is_the_last_4_kb(registry: FunctionRegistry) -> None:
    """Given a function that prints 10 KB, when invoked, then its log tail is the last 4096 bytes, ending in REPORT."""
    registry.functions["add"] = registry.functions["add"].__class__(
        **{**registry.functions["add"].__dict__, "handler": lambda event, context: print("x" * 10_000)}
    )
    tail = registry.invoke("add", {}, "test").log_tail
    assert len(tail.encode()) == 4096
    assert tail.splitlines()[-1].startswith("REPORT RequestId: ")


def test_a_builtin_authorizer_is_a_function_of_its_own(registry: FunctionRegistry) -> None:
    """Given an @app.authorizer, when invoked by name with a TOKEN event, then its policy comes back."""
    event = {"type": "TOKEN", "authorizationToken": "alice", "methodArn": "arn:aws:execute-api:x:1:a/api/GET/echo"}

    result = registry.invoke("gatekeeper", event, "test")

    assert registry.resolve("tiny-dev-gatekeeper").handler_string.endswith(".gatekeeper")
    assert result.payload["principalId"] == "alice"
    assert result.payload["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_concurrent_api_requests_each_see_their_own_request(registry: FunctionRegistry) -> None:
    results = concurrently(8, lambda n: registry.invoke(API_HANDLER, api_event({"n": n}), "test"))

    for n, result in results.items():
        reply = json.loads(result.payload["body"])
        assert reply == {"body": {"n": n}, "request_id": result.request_id}
    assert len(results) == 8


SAGA = {
    "StartAt": "Charge",
    "States": {
        "Charge": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Retry": [{"ErrorEquals": ["TransientError"], "MaxAttempts": 2}],
            "Catch": [
                {"ErrorEquals": ["PaymentDeclined"], "Next": "Failed"},
                {"ErrorEquals": ["States.ALL"], "Next": "Failed"},
            ],
            "End": True,
        },
        "Failed": {"Type": "Fail"},
    },
}


def declare_expected_errors(project: Project) -> None:
    """Given: a state machine (DefinitionUri) catching PaymentDeclined and `expected_errors = ["DomainError"]`."""
    (project.root / "saga.asl.json").write_text(json.dumps(SAGA))
    (project.root / "infra").mkdir()
    (project.root / "infra" / "resources.yaml").write_text(
        "Resources:\n  Saga:\n    Type: AWS::Serverless::StateMachine\n"
        "    Properties:\n      Name: saga\n      DefinitionUri: saga.asl.json\n"
    )
    (project.root / "pyproject.toml").write_text('[tool.devstack]\nexpected_errors = ["DomainError"]\n')


def test_expected_errors_are_the_state_machines_error_names_and_the_setting(tiny_project: Project) -> None:
    """Given a project declaring its outcomes, when a registry is built, then it knows their names (not States.*)."""
    declare_expected_errors(tiny_project)

    registry = FunctionRegistry(tiny_app(), tiny_project, "dev", TEST_REGION, echo=lambda line: None)

    assert registry.expected_errors == {"TransientError", "PaymentDeclined", "DomainError"}


def test_an_expected_error_prints_one_line_an_unexpected_one_its_traceback(tiny_project: Project) -> None:
    """Given declared outcomes, when functions raise them and a bug, then only the bug prints a traceback."""
    declare_expected_errors(tiny_project)
    lines: list[str] = []
    registry = FunctionRegistry(tiny_app(), tiny_project, "dev", TEST_REGION, echo=lines.append)

    declined = registry.invoke("decline", {}, "test")
    out_of_stock = registry.invoke("stockout", {}, "test")
    expected_output, lines[:] = list(lines), []
    exploded = registry.invoke("explode", {}, "test")

    assert len(expected_output) == 2
    assert "λ decline <- test" in expected_output[0]
    assert expected_output[0].endswith("ERROR PaymentDeclined: card 4242 declined")
    assert expected_output[1].endswith("ERROR OutOfStock: sku-1 has 0 left")
    assert not any("Traceback" in line for line in expected_output)
    [traceback_text, console] = lines
    assert traceback_text.startswith("Traceback (most recent call last):")
    assert traceback_text.endswith("ValueError: boom")
    assert console.endswith("ERROR ValueError: boom")
    # What Invoke returns is Lambda's error, stack trace and log, expected or not.
    for result, statement in ((declined, "raise PaymentDeclined"), (exploded, "raise ValueError")):
        error = result.lambda_error()
        assert statement in error["stackTrace"][-1]
        assert "[ERROR] " in result.log_tail and statement in result.log_tail
    assert out_of_stock.lambda_error()["errorType"] == "OutOfStock"


def test_without_declarations_every_error_prints_its_traceback(tiny_project: Project) -> None:
    """Given a bare project, when a function raises, then its traceback is printed (nothing is expected)."""
    lines: list[str] = []
    registry = FunctionRegistry(tiny_app(), tiny_project, "dev", TEST_REGION, echo=lines.append)

    registry.invoke("decline", {}, "test")

    assert registry.expected_errors == frozenset()
    assert lines[0].startswith("Traceback") and lines[1].endswith("ERROR PaymentDeclined: card 4242 declined")
