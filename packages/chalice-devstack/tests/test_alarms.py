"""Alarms evaluated offline: the catalog's DLQ alarm on a running devstack, saga and stream readers on moto."""

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from chalice_devstack.alarms import AlarmBoard, Readers, alarms_of, render
from chalice_devstack.intrinsics import Scope, default_parameters
from chalice_devstack.project import Project
from chalice_devstack.testing import Devstack, running_devstack
from tests.conftest import TEST_REGION
from tests.test_tooling_project import CATALOG, devstack


def _state(stack: Devstack, alarm: str) -> dict[str, Any]:
    """One alarm's row of the running devstack's status view."""
    return next(row for row in stack.status()["alarms"] if row["alarm"] == alarm)


def _wait_for(stack: Devstack, alarm: str, state: str) -> dict[str, Any]:
    """Poll the status view until the alarm is in `state`; return its row."""
    return stack.wait_until(lambda: (row := _state(stack, alarm))["state"] == state and row)


def test_a_dead_letter_turns_its_alarm_to_alarm_and_redriving_it_back_to_ok() -> None:
    """Given the catalog running, when a message lands in its imports DLQ, then the DLQ alarm is ALARM;
    when it is redriven to the queue (and imported), then the alarm is OK again, with a new since."""
    with running_devstack(Project.at(CATALOG), "dev", TEST_REGION) as stack:
        sqs = stack.client("sqs")
        dlq, queue = (
            sqs.get_queue_url(QueueName=f"catalog-dev-imports{suffix}")["QueueUrl"] for suffix in ("-dlq", "")
        )
        name = "catalog-dev-imports-dlq-depth"
        assert _state(stack, name)["state"] == "OK"

        sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"id": "lamp"}))
        alarm = _wait_for(stack, name, "ALARM")
        assert alarm["reason"] == "ApproximateNumberOfMessagesVisible 1 >= 1"

        (message,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
        sqs.send_message(QueueUrl=queue, MessageBody=message["Body"])
        sqs.delete_message(QueueUrl=dlq, ReceiptHandle=message["ReceiptHandle"])
        ok = _wait_for(stack, name, "OK")
        assert ok["since"] >= alarm["since"]
        text = stack.control("GET", "/_devstack/status").body
        assert "Errors" in render(text["alarms"])[-1]  # the AWS-only alarms are summed up, not hidden


MACHINE = "orders-saga"
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "Saga": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"StateMachineName": MACHINE}},
        **{
            f"Saga{metric}": {
                "Type": "AWS::CloudWatch::Alarm",
                "Properties": {
                    "AlarmName": f"saga-{metric}",
                    "Namespace": "AWS/States",
                    "MetricName": metric,
                    "Dimensions": [{"Name": "StateMachineArn", "Value": {"Ref": "Saga"}}],
                    "Period": 300,
                    "Threshold": 1,
                    "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                    "TreatMissingData": "notBreaching",
                },
            }
            for metric in ("ExecutionsFailed", "ExecutionsTimedOut")
        },
        "AgeAlarm": {
            "Type": "AWS::CloudWatch::Alarm",
            "Properties": {
                "AlarmName": "changes-age",
                "Namespace": "AWS/Lambda",
                "MetricName": "IteratorAge",
                "Dimensions": [{"Name": "FunctionName", "Value": "svc-dev-on_change"}],
                "Period": 60,
                "Threshold": 60000,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            },
        },
    }
}


@pytest.fixture
def machine() -> Iterator[tuple[Any, Scope]]:
    """Given: on moto, a state machine whose only state fails, and the scope naming it."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=TEST_REGION)
        definition = json.dumps({"StartAt": "Fail", "States": {"Fail": {"Type": "Fail", "Error": "Broken"}}})
        role = "arn:aws:iam::123456789012:role/saga"
        arn = sfn.create_state_machine(name=MACHINE, definition=definition, roleArn=role)["stateMachineArn"]
        yield sfn, Scope(default_parameters(TEMPLATE, "dev", TEST_REGION, "svc"), {"Saga": {"Ref": arn, "Arn": arn}})


def test_a_failed_saga_execution_raises_the_failed_alarm_within_its_window(machine: tuple[Any, Scope]) -> None:
    sfn, scope = machine
    ages = {"svc-dev-on_change": [(1_000.0, 90_000.0)]}
    board = AlarmBoard(alarms_of(TEMPLATE, scope), Readers(lambda service: sfn, lambda name: ages.get(name, [])))
    before = {row["alarm"]: row["state"] for row in board.evaluate()}

    # When: one execution fails (moto runs it to its Fail state)
    arn = scope.attributes["Saga"]["Arn"]
    execution = sfn.start_execution(stateMachineArn=arn, name="order-1", input="{}")["executionArn"]
    _until(lambda: sfn.describe_execution(executionArn=execution)["status"] == "FAILED")
    after = {row["alarm"]: row for row in board.evaluate()}

    # Then: failed is ALARM, timed out stays OK; the stream age read at 1,000 s is outside any current window
    assert before["saga-ExecutionsFailed"] == "OK"
    assert after["saga-ExecutionsFailed"]["state"] == "ALARM"
    assert after["saga-ExecutionsFailed"]["reason"] == "ExecutionsFailed 1 >= 1"
    assert after["saga-ExecutionsTimedOut"]["state"] == "OK"
    assert after["changes-age"]["state"] == "INSUFFICIENT_DATA"  # TreatMissingData's default: missing
    # And: past the alarm's window the failure no longer counts
    later = {row["alarm"]: row["state"] for row in board.evaluate(now=_now(sfn, arn) + 301)}
    assert later["saga-ExecutionsFailed"] == "OK"


def _until(done: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll briefly until done() (moto runs executions in a thread of its own)."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _now(sfn: Any, arn: str) -> float:
    """When the machine's newest execution stopped, as epoch seconds."""
    (execution,) = sfn.list_executions(stateMachineArn=arn)["executions"]
    return float(execution["stopDate"].timestamp())


def test_a_stream_falling_behind_raises_the_iterator_age_alarm_and_unread_metrics_are_aws_only() -> None:
    # Given: a poller sample 90 s old at t=1000 (threshold 60 s) and an Errors alarm devstack cannot read
    template = {"Resources": {**TEMPLATE["Resources"], "Errors": _errors_alarm()}}
    template["Resources"] = {key: value for key, value in template["Resources"].items() if not key.startswith("Saga")}
    ages = {"svc-dev-on_change": [(1_000.0, 90_000.0)]}
    scope = Scope(default_parameters(template, "dev", TEST_REGION, "svc"), {})
    board = AlarmBoard(alarms_of(template, scope), Readers(lambda service: None, lambda name: ages.get(name, [])))

    # When: evaluated within the alarm's 60 s window
    rows = {row["alarm"]: row for row in board.evaluate(now=1_030.0)}

    # Then
    assert rows["changes-age"]["state"] == "ALARM" and rows["changes-age"]["reason"] == "IteratorAge 90000 >= 60000"
    assert not rows["svc-errors"]["evaluated"]
    assert render(list(rows.values()))[-1] == "  not evaluated offline (1, on AWS only): Errors"


def _errors_alarm() -> dict[str, Any]:
    """A Lambda Errors alarm: a metric devstack does not keep."""
    properties = {"AlarmName": "svc-errors", "Namespace": "AWS/Lambda", "MetricName": "Errors", "Threshold": 1}
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": properties}


def test_the_catalog_without_one_alarm_fails_the_package_check_naming_it(tmp_path: Path) -> None:
    """Given the catalog with its stream mapping's IteratorAge alarm removed, when checked with packaging,
    then the check fails and names the function and the missing alarm (devstack's own rule: cfn-lint is off,
    test_tooling_project runs it on the complete catalog)."""
    catalog = Path(shutil.copytree(CATALOG, tmp_path / "catalog"))
    resources = yaml.safe_load((catalog / "infra" / "resources.yaml").read_text())
    del resources["Resources"]["CountItemsIteratorAgeAlarm"]
    (catalog / "infra" / "resources.yaml").write_text(yaml.safe_dump(resources))

    result = devstack(catalog, "check", "--package", "--no-cfn-lint")

    assert result.returncode == 1
    assert "CountItems: no IteratorAge alarm" in result.stdout
    assert "Dimensions [{Name: FunctionName, Value: {'Ref': CountItems}}]" in result.stdout
