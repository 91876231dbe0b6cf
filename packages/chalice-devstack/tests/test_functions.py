"""devstack's function registry: names resolve like Lambda's, errors come back like Lambda's, concurrency is safe.

A tiny Chalice app of its own keeps these tests apart from the service's domain handlers.
"""

import json
import threading
import time
from typing import Any

import pytest
from chalice.app import Chalice

from chalice_devstack.functions import API_HANDLER, FunctionNotFound, FunctionRegistry
from chalice_devstack.project import Project
from tests.conftest import TEST_REGION


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
    assert registry.invoke("add", {"a": 2, "b": 3}, "test").payload == 5
    failed = registry.invoke("explode", {}, "test")
    assert not failed.ok
    assert failed.lambda_error() == {"errorType": "ValueError", "errorMessage": "boom", "stackTrace": []}
    assert [r.function for r in registry.recent()] == ["add", "explode"]


def test_concurrent_api_requests_each_see_their_own_request(registry: FunctionRegistry) -> None:
    results: dict[int, Any] = {}

    def call(n: int) -> None:
        results[n] = registry.invoke(API_HANDLER, api_event({"n": n}), "test")

    threads = [threading.Thread(target=call, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    for n, result in results.items():
        reply = json.loads(result.payload["body"])
        assert reply == {"body": {"n": n}, "request_id": result.request_id}
    assert len(results) == 8
