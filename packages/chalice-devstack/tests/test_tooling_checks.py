"""The packaging fix-ups and the template walker, on small hand-made templates."""

import json
import marshal
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalice_devstack.tooling import checks
from chalice_devstack.tooling.package import add_bytecode, finalize_template, slim_zip


def _alarm(namespace: str, metric: str, dimension: str, value: Any) -> dict[str, Any]:
    """An alarm on one metric of one resource, notifying the alarm topic."""
    properties = {"Namespace": namespace, "MetricName": metric, "AlarmActions": [{"Ref": "AlarmTopic"}]}
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": properties | {"Dimensions": [{"Name": dimension, "Value": value}]},
    }


def _alarms() -> dict[str, Any]:
    """The alarms the good template needs: its function, stream mapping, two DLQs and saga."""
    on_orders = {"Ref": "OnOrders"}
    return {
        "OnOrdersErrorsAlarm": _alarm("AWS/Lambda", "Errors", "FunctionName", on_orders),
        "OnOrdersThrottlesAlarm": _alarm("AWS/Lambda", "Throttles", "FunctionName", on_orders),
        "OnOrdersIteratorAgeAlarm": _alarm("AWS/Lambda", "IteratorAge", "FunctionName", on_orders),
        **{
            f"{queue}DepthAlarm": _alarm(
                "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", {"Fn::GetAtt": [queue, "QueueName"]}
            )
            for queue in ("OrdersDlq", "StreamDlq")
        },
        "SagaFailedAlarm": _alarm("AWS/States", "ExecutionsFailed", "StateMachineArn", {"Ref": "Saga"}),
        "SagaTimedOutAlarm": _alarm("AWS/States", "ExecutionsTimedOut", "StateMachineArn", {"Ref": "Saga"}),
    }


def _template() -> dict[str, Any]:
    """A minimal good template: one queue consumer, one stream consumer, a saga with one task, their alarms."""
    function = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Timeout": 10,
            "Architectures": ["arm64"],
            "Tracing": "Active",
            "FunctionName": {"Fn::Sub": "svc-${Stage}-on_orders"},
            "Role": {"Fn::GetAtt": ["OnOrdersRole", "Arn"]},
            "Environment": {"Variables": {"SERVICE_TABLE": "t"}},
            "Events": {
                "OnOrdersSqsEventSource": {
                    "Type": "SQS",
                    "Properties": {
                        "Queue": {"Fn::Sub": "${OrdersQueue.Arn}"},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                    },
                },
                "OnOrdersDynamodbEventSource": {
                    "Type": "DynamoDB",
                    "Properties": {
                        "Stream": {"Fn::GetAtt": ["Table", "StreamArn"]},
                        "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        "BisectBatchOnFunctionError": True,
                        "MaximumRetryAttempts": 3,
                        "MaximumRecordAgeInSeconds": 3600,
                        "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["StreamDlq", "Arn"]}}},
                    },
                },
            },
        },
    }
    return {
        "Resources": {
            "OnOrders": function,
            "OnOrdersLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/aws/lambda/svc-${Stage}-on_orders"},
                    "RetentionInDays": 14,
                },
            },
            "OnOrdersRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "Policies": [
                        {
                            "PolicyDocument": {
                                "Statement": [
                                    {
                                        "Effect": "Allow",
                                        "Action": ["sqs:DeleteMessage"],
                                        "Resource": {"Fn::GetAtt": ["OrdersQueue", "Arn"]},
                                    },
                                    {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
                                ]
                            }
                        }
                    ]
                },
            },
            "OrdersQueue": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "VisibilityTimeout": 60,
                    "SqsManagedSseEnabled": True,
                    "RedrivePolicy": {
                        "deadLetterTargetArn": {"Fn::GetAtt": ["OrdersDlq", "Arn"]},
                        "maxReceiveCount": 5,
                    },
                },
            },
            "OrdersDlq": {
                "Type": "AWS::SQS::Queue",
                "Properties": {"SqsManagedSseEnabled": True, "MessageRetentionPeriod": 1_209_600},
            },
            "StreamDlq": {"Type": "AWS::SQS::Queue", "Properties": {"SqsManagedSseEnabled": True}},
            "Table": {
                "Type": "AWS::DynamoDB::Table",
                "Properties": {
                    "BillingMode": "PAY_PER_REQUEST",
                    "SSESpecification": {"SSEEnabled": True},
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                },
            },
            "Saga": {
                "Type": "AWS::Serverless::StateMachine",
                "Properties": {
                    "Definition": {"States": {"Reserve": {"Resource": "${OnOrdersArn}"}}},
                    "DefinitionSubstitutions": {"OnOrdersArn": {"Fn::GetAtt": ["OnOrders", "Arn"]}},
                    "Policies": [
                        {
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": "lambda:InvokeFunction",
                                    "Resource": {"Fn::GetAtt": ["OnOrders", "Arn"]},
                                },
                            ]
                        }
                    ],
                },
            },
            **_alarms(),
        }
    }


def _problems(template: dict[str, Any]) -> list[str]:
    """The walker's findings on a template, as printed lines."""
    return [str(problem) for problem in checks.run_all(template, "arm64", {"SERVICE_TABLE", "AWS_REGION"})]


def test_a_good_template_has_no_problems() -> None:
    assert _problems(_template()) == []


def _break(path: list[Any], value: Any = None, delete: bool = False) -> dict[str, Any]:
    template = _template()
    node = template
    for key in path[:-1]:
        node = node[key]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return template


FN = ["Resources", "OnOrders", "Properties"]
SQS = [*FN, "Events", "OnOrdersSqsEventSource", "Properties"]
STREAM = [*FN, "Events", "OnOrdersDynamodbEventSource", "Properties"]
STATEMENTS = ["Resources", "OnOrdersRole", "Properties", "Policies", 0, "PolicyDocument", "Statement"]


@pytest.mark.parametrize(
    ("broken", "expected"),
    [
        (_break([*SQS, "FunctionResponseTypes"], delete=True), "ReportBatchItemFailures"),
        (_break([*STREAM, "FunctionResponseTypes"], []), "ReportBatchItemFailures"),
        (_break([*SQS, "Queue"], {"Fn::Sub": "arn:aws:sqs:us-east-1:1:literal"}), "must reference an AWS::SQS::Queue"),
        (_break(["Resources", "OrdersQueue", "Properties", "RedrivePolicy"], delete=True), "no RedrivePolicy"),
        (_break(["Resources", "OrdersQueue", "Properties", "VisibilityTimeout"], 59), "VisibilityTimeout 59 < 6 x"),
        (_break(["Resources", "OrdersDlq", "Properties", "SqsManagedSseEnabled"], delete=True), "not encrypted"),
        (_break(["Resources", "OrdersDlq", "Properties", "MessageRetentionPeriod"], delete=True), "DLQ keeps messages"),
        (_break([*STREAM, "BisectBatchOnFunctionError"], delete=True), "BisectBatchOnFunctionError"),
        (_break([*STREAM, "DestinationConfig"], delete=True), "OnFailure"),
        (_break([*STREAM, "Stream"], "arn:literal"), "Stream must reference"),
        (_break(["Resources", "Table", "Properties", "BillingMode"], "PROVISIONED"), "PAY_PER_REQUEST"),
        (
            _break(["Resources", "Table", "Properties", "PointInTimeRecoverySpecification"], delete=True),
            "point-in-time",
        ),
        (_break([*STATEMENTS, 0, "Action"], ["sqs:*"]), "wildcard action 'sqs:*'"),
        (_break([*STATEMENTS, 0, "Action"], "*"), "wildcard action '*'"),
        (_break([*STATEMENTS, 0, "Resource"], "*"), "Resource '*' for ['sqs:DeleteMessage']"),
        (_break(["Resources", "Saga", "Properties", "DefinitionSubstitutions"], {}), "'OnOrdersArn' has no Definition"),
        (
            _break(
                ["Resources", "Saga", "Properties", "Policies", 0, "Statement", 0, "Resource"],
                {"Fn::Sub": "${Other.Arn}"},
            ),
            "role may invoke ['Other']",
        ),
        (_break([*FN, "Architectures"], ["x86_64"]), "Architectures"),
        (_break([*FN, "Tracing"], "PassThrough"), "X-Ray"),
        (_break(["Resources", "OnOrdersLogGroup"], delete=True), "no log group"),
        (_break([*FN, "Environment", "Variables"], {}), "environment lacks ['SERVICE_TABLE']"),
        (_break(["Resources", "OnOrdersErrorsAlarm"], delete=True), "OnOrders: no Errors alarm"),
        (_break(["Resources", "OnOrdersThrottlesAlarm"], delete=True), "OnOrders: no Throttles alarm"),
        (_break(["Resources", "OnOrdersIteratorAgeAlarm"], delete=True), "OnOrders: no IteratorAge alarm"),
        (_break(["Resources", "OrdersDlqDepthAlarm"], delete=True), "OrdersDlq: no ApproximateNumberOfMessagesVisible"),
        (_break(["Resources", "StreamDlqDepthAlarm"], delete=True), "StreamDlq: no ApproximateNumberOfMessagesVisible"),
        (_break(["Resources", "SagaFailedAlarm"], delete=True), "Saga: no ExecutionsFailed alarm"),
        (_break(["Resources", "SagaTimedOutAlarm"], delete=True), "Saga: no ExecutionsTimedOut alarm"),
        (
            _break(["Resources", "SagaFailedAlarm", "Properties", "AlarmActions"], []),
            "SagaFailedAlarm: alarm notifies nobody",
        ),
    ],
)
def test_each_check_reports_what_is_broken(broken: dict[str, Any], expected: str) -> None:
    # Given: the good template with one thing broken  When: the walker runs  Then: it names that thing
    problems = _problems(broken)
    assert any(expected in problem for problem in problems), problems


def test_a_bucket_must_block_public_access_encrypt_expire_and_require_tls() -> None:
    template = _template()
    template["Resources"]["Uploads"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    problems = checks.check_buckets(template)
    assert len(problems) == 4 and {problem.where for problem in problems} == {"Uploads"}
    assert all(problem.fix for problem in problems)


def test_a_function_added_without_alarms_is_named_with_the_fix() -> None:
    # Given: the good template plus a second function and nothing else
    template = _template()
    template["Resources"]["Nightly"] = {"Type": "AWS::Serverless::Function", "Properties": {}}

    # When
    problems = checks.check_alarms(template)

    # Then: both of its alarms are missing, each with the alarm to add
    assert [str(problem) for problem in problems] == ["Nightly: no Errors alarm", "Nightly: no Throttles alarm"]
    assert "Dimensions [{Name: FunctionName, Value: {'Ref': Nightly}}]" in problems[0].fix


def _chalice_output() -> dict[str, Any]:
    """The shape `chalice package` emits for one API function with autogen_policy off."""
    return {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"}},
        "Resources": {
            "APIHandler": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["ApiHandlerRole", "Arn"]}},
            },
            "ApiHandlerLogGroup": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${ApiHandler}"}, "RetentionInDays": 14},
            },
            "ApiHandlerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {"Policies": [{"PolicyDocument": {"Statement": []}}]},
            },
            "Saga": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "saga.asl.json"}},
        },
    }


def test_finalize_names_functions_and_log_groups_per_stage_and_inlines_the_definition(tmp_path: Path) -> None:
    # Given: chalice's output and an ASL file relative to the project root
    (tmp_path / "saga.asl.json").write_text(json.dumps({"StartAt": "A"}))
    # When: it is finalized for prod
    template = finalize_template(_chalice_output(), "prod", "svc", {"ApiHandler": "api_handler"}, tmp_path)
    resources = template["Resources"]
    # Then: Stage defaults to prod, the function and its log group share the contract-4 name
    assert template["Parameters"]["Stage"]["Default"] == "prod"
    assert resources["APIHandler"]["Properties"]["FunctionName"] == {"Fn::Sub": "svc-${Stage}-api_handler"}
    assert resources["ApiHandlerLogGroup"]["Properties"]["LogGroupName"] == {
        "Fn::Sub": "/aws/lambda/svc-${Stage}-api_handler"
    }
    # ...its role may write only to that log group, and X-Ray gets the "*" AWS requires
    statements = resources["ApiHandlerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert statements[0]["Resource"]["Fn::Sub"].endswith(":log-group:/aws/lambda/svc-${Stage}-api_handler:*")
    assert statements[1]["Resource"] == "*" and set(statements[1]["Action"]) <= checks.STAR_RESOURCE_ACTIONS
    # ...and the state machine carries its definition inline
    assert resources["Saga"]["Properties"] == {"Definition": {"StartAt": "A"}}


def _dist_info(archive: zipfile.ZipFile, name: str, requires: list[str], files: list[str]) -> None:
    info = f"{name}-1.0.dist-info"
    metadata = "\n".join(["Name: " + name, *(f"Requires-Dist: {req}" for req in requires)])
    archive.writestr(f"{info}/METADATA", metadata)
    archive.writestr(f"{info}/RECORD", "\n".join(f"{path},," for path in [*files, f"{info}/RECORD"]))
    for path in files:
        archive.writestr(path, "")


def test_slim_zip_drops_runtime_provided_packages_and_what_only_they_need(tmp_path: Path) -> None:
    # Given: pynamodb -> botocore -> urllib3 / jmespath, and powertools -> jmespath
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        _dist_info(archive, "pynamodb", ["botocore>=1.12"], ["pynamodb/__init__.py"])
        _dist_info(archive, "botocore", ["urllib3<3", "jmespath<2"], ["botocore/__init__.py"])
        _dist_info(archive, "urllib3", [], ["urllib3/__init__.py"])
        _dist_info(archive, "jmespath", [], ["jmespath/__init__.py"])
        _dist_info(
            archive, "aws_lambda_powertools", ["jmespath<2", "boto3; extra == 'all'"], ["aws_lambda_powertools/a.py"]
        )
        archive.writestr("chalicelib/__pycache__/config.cpython-311.pyc", "")
        archive.writestr("app.py", "")
    # When: the zip is slimmed
    dropped = slim_zip(path)
    kept = zipfile.ZipFile(path).namelist()
    # Then: botocore and urllib3 (only botocore needs it) go; jmespath stays for powertools
    assert {"botocore/__init__.py", "urllib3/__init__.py", "chalicelib/__pycache__/config.cpython-311.pyc"} <= set(
        dropped
    )
    assert {"pynamodb/__init__.py", "jmespath/__init__.py", "aws_lambda_powertools/a.py", "app.py"} <= set(kept)
    assert not [name for name in kept if name.startswith(("botocore", "urllib3"))]


def test_add_bytecode_compiles_each_module_for_lambdas_task_root(tmp_path: Path) -> None:
    # Given: a zip with a module in a package and one that does not compile
    path = tmp_path / "deployment.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("chalicelib/config.py", "VALUE = 1\n")
        archive.writestr("broken.py", "def (:\n")
    # When: bytecode is added
    added = add_bytecode(path)
    # Then: the good module has an unchecked-hash .pyc naming its path under /var/task; the broken one has none
    archive = zipfile.ZipFile(path)
    pyc = archive.read(f"chalicelib/__pycache__/config.{sys.implementation.cache_tag}.pyc")
    assert added == 1
    assert int.from_bytes(pyc[4:8], "little") == 1
    assert marshal.loads(pyc[16:]).co_filename == "/var/task/chalicelib/config.py"
    assert {"chalicelib/config.py", "broken.py"} <= set(archive.namelist())
