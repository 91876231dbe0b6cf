"""devstack status: queue and DLQ depths, recent executions and invocations, from resources.yaml."""

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chalice_devstack.intrinsics import Scope, default_parameters
from chalice_devstack.status import dead_letter_queues, render, status
from tests.conftest import TEST_REGION

TEMPLATE: dict[str, Any] = {
    "Resources": {
        "JobsDeadLetterQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "jobs-dlq"}},
        "JobsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": "jobs",
                "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["JobsDeadLetterQueue", "Arn"]}},
            },
        },
        "StreamFailures": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "stream-failures"}},
        "Flow": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Name": "flow"}},
        "HandleChanges": {
            "Properties": {
                "Events": {
                    "HandleChangesDynamodbEventSource": {
                        "Properties": {
                            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::Sub": "${StreamFailures.Arn}"}}}
                        }
                    }
                }
            }
        },
    }
}


@dataclass
class Invocation:
    """The registry's ring entries, as far as status reads them."""

    function: str
    trigger: str
    ok: bool
    duration_ms: float
    error_type: str | None = None
    error_message: str | None = None
    payload: Any = None


@pytest.fixture
def scope() -> Iterator[Scope]:
    """Given: the template's queues and state machine on moto, two messages waiting in the DLQ, one execution."""
    with mock_aws():
        sqs = boto3.client("sqs", region_name=TEST_REGION)
        attributes: dict[str, dict[str, str]] = {}
        for logical_id in ("JobsDeadLetterQueue", "JobsQueue", "StreamFailures"):
            name = TEMPLATE["Resources"][logical_id]["Properties"]["QueueName"]
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            attributes[logical_id] = {"QueueName": name, "QueueUrl": url}
        for body in ("a", "b"):
            sqs.send_message(QueueUrl=attributes["JobsDeadLetterQueue"]["QueueUrl"], MessageBody=body)
        sfn = boto3.client("stepfunctions", region_name=TEST_REGION)
        definition = json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}})
        arn = sfn.create_state_machine(
            name="flow", definition=definition, roleArn="arn:aws:iam::123456789012:role/flow"
        )["stateMachineArn"]
        sfn.start_execution(stateMachineArn=arn, name="order-1", input="{}")
        attributes["Flow"] = {"Arn": arn, "Name": "flow"}
        yield Scope(default_parameters(TEMPLATE, "dev", TEST_REGION, "svc"), attributes)


def test_dead_letter_queues_are_redrive_targets_and_on_failure_destinations() -> None:
    # Given / When / Then
    assert dead_letter_queues(TEMPLATE) == {"JobsDeadLetterQueue", "StreamFailures"}


def test_status_reports_depths_executions_and_recent_errors(scope: Scope) -> None:
    # Given: a ring of three invocations, one failed
    ring = [
        Invocation("handle_jobs", "sqs:jobs", True, 3.2),
        Invocation("handle_changes", "dynamodb:service", False, 1.0, "ValueError", "bad record"),
        Invocation("sweep", "schedule:rate(5 minutes)", True, 2.0),
    ]

    # When
    data = status(lambda service: boto3.client(service, region_name=TEST_REGION), TEMPLATE, scope, ring)

    # Then
    queues = {row["queue"]: row for row in data["queues"]}
    assert queues["jobs-dlq"]["dlq"] and queues["jobs-dlq"]["visible"] == 2
    assert not queues["jobs"]["dlq"] and queues["jobs"]["visible"] == 0
    assert queues["stream-failures"]["dlq"]
    (machine,) = data["state_machines"]
    assert [item["name"] for item in machine["executions"]] == ["order-1"]
    assert [item["function"] for item in data["invocations"]] == ["sweep", "handle_changes", "handle_jobs"]
    assert [item["error_message"] for item in data["errors"]] == ["bad record"]
    json.dumps(data)  # served as JSON as-is
    text = render(data)
    assert "jobs-dlq (DLQ): 2 visible" in text
    assert "handle_changes <- dynamodb:service 1.0 ms ERROR ValueError: bad record" in text
