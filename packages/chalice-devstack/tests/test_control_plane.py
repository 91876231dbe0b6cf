"""Lambda's control plane on devstack's AWS endpoint answers as AWS does (tests/apps/gateway), driven with boto3.

One devstack (a child process) serves the module.
"""

import base64
import json
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from chalice_devstack.testing import Devstack
from tests.conftest import TEST_REGION
from tests.gateway_app import gateway_devstack

FUNCTION_ARN = f"arn:aws:lambda:{TEST_REGION}:123456789012:function"


@pytest.fixture(scope="module")
def stack() -> Iterator[Devstack]:
    """Given: the gateway app running on devstack."""
    with gateway_devstack() as running:
        yield running


def test_list_functions_names_every_function_of_the_app(stack: Devstack) -> None:
    """Given the app, when its functions are listed, then each one is there by its deployed name."""
    functions = stack.client("lambda").list_functions()["Functions"]

    names = {function["FunctionName"] for function in functions}
    assert {"gateway-dev-shout", "gateway-dev-clock", "gateway-dev-consume", "gateway-dev-gate"} <= names
    assert {"gateway-dev-token_check", "gateway-dev-tidy"} <= names


def test_get_function_gives_the_configuration_chalice_would_deploy(stack: Devstack) -> None:
    """Given a function with its own memory and env var, when fetched by name, then its configuration says so."""
    configuration = stack.client("lambda").get_function(FunctionName="shout")["Configuration"]

    assert configuration["FunctionArn"] == f"{FUNCTION_ARN}:gateway-dev-shout"
    assert (configuration["MemorySize"], configuration["Timeout"]) == (256, 10)
    assert configuration["Handler"] == "app.shout"
    assert configuration["Environment"]["Variables"]["GREETING"] == "hello"


def test_get_function_of_an_unknown_name_is_resource_not_found(stack: Devstack) -> None:
    """Given no such function, when fetched, then Lambda's ResourceNotFoundException is raised."""
    with pytest.raises(ClientError) as raised:
        stack.client("lambda").get_function(FunctionName="nope")

    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_invoke_with_log_type_tail_returns_the_invocation_log(stack: Devstack) -> None:
    """Given a function that prints, when invoked with LogType=Tail, then LogResult is its log, base64-encoded."""
    reply = stack.client("lambda").invoke(FunctionName="shout", Payload=json.dumps({"text": "hi"}), LogType="Tail")

    log = base64.b64decode(reply["LogResult"]).decode()
    assert json.loads(reply["Payload"].read()) == {"text": "HI"}
    assert "hello from shout: hi\n" in log
    assert log.startswith("START RequestId: ")
    assert "REPORT RequestId: " in log.splitlines()[-1]


def test_invoke_of_an_unserialisable_return_value_is_a_function_error(stack: Devstack) -> None:
    """Given a function returning a datetime, when invoked, then Lambda's Runtime.MarshalError comes back."""
    reply = stack.client("lambda").invoke(FunctionName="clock", Payload=b"{}")

    error = json.loads(reply["Payload"].read())
    assert reply["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.MarshalError"
    assert error["errorMessage"].startswith("Unable to marshal response: Object of type datetime")


def test_list_event_source_mappings_shows_the_queue_trigger_with_its_resources_settings(stack: Devstack) -> None:
    """Given an SQS trigger patched in resources.yaml, when mappings are listed for it, then its settings show."""
    mappings = stack.client("lambda").list_event_source_mappings(FunctionName="consume")["EventSourceMappings"]

    assert len(mappings) == 1
    mapping = mappings[0]
    assert mapping["EventSourceArn"] == f"arn:aws:sqs:{TEST_REGION}:123456789012:gateway-jobs"
    assert mapping["FunctionArn"] == f"{FUNCTION_ARN}:gateway-dev-consume"
    assert (mapping["BatchSize"], mapping["MaximumBatchingWindowInSeconds"]) == (3, 1)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["State"] == "Enabled"
    one = stack.client("lambda").get_event_source_mapping(UUID=mapping["UUID"])
    assert one["EventSourceArn"] == mapping["EventSourceArn"]


def test_events_list_rules_shows_the_schedule_as_chalice_deploys_it(stack: Devstack) -> None:
    """Given a scheduled function, when EventBridge rules are listed, then its rule and target are there."""
    events = stack.client("events")

    rules = {rule["Name"]: rule for rule in events.list_rules()["Rules"]}

    assert rules["gateway-dev-tidy-event"]["ScheduleExpression"] == "rate(12 hours)"
    targets = events.list_targets_by_rule(Rule="gateway-dev-tidy-event")["Targets"]
    assert [target["Arn"] for target in targets] == [f"{FUNCTION_ARN}:gateway-dev-tidy"]
