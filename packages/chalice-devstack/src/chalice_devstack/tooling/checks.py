"""`devstack check`'s template walker: what in a packaged template (dist/sam.json) breaks the deployment rules.

Each check returns every problem it finds (empty = fine), each with its fix, so one run lists
all that is missing and a deliberately broken template shows that every check can fail.
"""

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from chalice_devstack.status import dead_letter_queues

Template = dict[str, Any]

BATCH_SOURCES = {"SQS", "DynamoDB", "Kinesis"}
STREAM_SOURCES = {"DynamoDB", "Kinesis"}
# AWS's guidance: a source queue's visibility timeout at least six times the consumer's timeout.
VISIBILITY_FACTOR = 6
SQS_DEFAULT_VISIBILITY = 30
SQS_DEFAULT_RETENTION = 345_600  # 4 days
# Actions without resource-level permissions, for which AWS requires "Resource": "*".
STAR_RESOURCE_ACTIONS = frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords", "cloudwatch:PutMetricData"})
# Set by the Lambda runtime itself, not by the template.
RUNTIME_ENV = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_LAMBDA_FUNCTION_NAME"})
STREAM_REQUIRED = ("BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
BUCKET_BLOCKS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


# Where settings Chalice's decorators cannot express go: merged into the function's SAM event.
def mapping_settings(function: str, event: str) -> str:
    """The resources-file path of one trigger's mapping settings."""
    return f"Resources.{function}.Properties.Events.{event}.Properties in the resources file"


@dataclass(frozen=True)
class Problem:
    """One thing that breaks a rule: where it is, what is wrong, and how to fix it."""

    where: str
    what: str
    fix: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def resources_of(template: Template, *kinds: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (logical id, resource) for resources of the given types."""
    for logical_id, resource in template["Resources"].items():
        if resource.get("Type") in kinds:
            yield logical_id, resource


def event_sources(template: Template) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Yield (function id, event name, event) for every SAM event of every function."""
    for function_id, function in resources_of(template, "AWS::Serverless::Function"):
        for name, event in function["Properties"].get("Events", {}).items():
            yield function_id, name, event


def referenced_resource(value: Any) -> str | None:
    """The logical id an ARN value points at: {"Fn::GetAtt": [X, ...]}, {"Fn::Sub": "${X.Arn}"} or {"Ref": X}."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.Arn\}", value["Fn::Sub"])
        return match.group(1) if match else None
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def as_list(value: Any) -> list[Any]:
    """A policy field that may be one value or a list, as a list."""
    return value if isinstance(value, list) else [value]


def check_batch_failure_reporting(template: Template) -> list[Problem]:
    """Every SQS and stream mapping reports partial batch failures."""
    return [
        Problem(
            f"{function}.{name}",
            f"{event['Type']} mapping lacks FunctionResponseTypes: [ReportBatchItemFailures]",
            "return {'batchItemFailures': [...]} from the handler and set FunctionResponseTypes in the resources file"
            " (devstack applies partial batch responses the same way)",
        )
        for function, name, event in event_sources(template)
        if event.get("Type") in BATCH_SOURCES
        and "ReportBatchItemFailures" not in event.get("Properties", {}).get("FunctionResponseTypes", [])
    ]


def check_source_queues(template: Template) -> list[Problem]:
    """Every SQS source is a queue of this template, with a DLQ that outlives it and a visibility timeout >= 6x."""
    problems = []
    for function, name, event in event_sources(template):
        if event.get("Type") != "SQS":
            continue
        queue_id = referenced_resource(event["Properties"].get("Queue")) or ""
        queue = template["Resources"].get(queue_id)
        if queue is None or queue.get("Type") != "AWS::SQS::Queue":
            fix = "declare the queue in the resources file and name it in the handler's decorator"
            problems.append(
                Problem(f"{function}.{name}", "Queue must reference an AWS::SQS::Queue of this template", fix)
            )
            continue
        problems += source_queue_problems(template, function, queue_id, queue.get("Properties", {}))
    return problems


def source_queue_problems(
    template: Template, function: str, queue_id: str, properties: dict[str, Any]
) -> list[Problem]:
    """A consumer's source queue: a redrive policy, a DLQ that outlives it, visibility >= 6x the timeout."""
    problems = []
    redrive = properties.get("RedrivePolicy", {})
    if not redrive.get("deadLetterTargetArn") or not redrive.get("maxReceiveCount"):
        fix = "add RedrivePolicy {deadLetterTargetArn: <DLQ Arn>, maxReceiveCount: N} and a DLQ queue"
        problems.append(Problem(queue_id, f"source queue of {function} has no RedrivePolicy to a DLQ", fix))
    problems += check_dlq_retention(template, queue_id, properties)
    timeout = template["Resources"][function]["Properties"].get("Timeout", 3)
    visibility = properties.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY)
    if visibility < VISIBILITY_FACTOR * timeout:
        what = f"VisibilityTimeout {visibility} < {VISIBILITY_FACTOR} x {function} Timeout {timeout}"
        fix = f"set VisibilityTimeout: {VISIBILITY_FACTOR * timeout} (or lower the function's lambda_timeout)"
        problems.append(Problem(queue_id, what, fix))
    return problems


def check_dlq_retention(template: Template, queue_id: str, properties: dict[str, Any]) -> list[Problem]:
    """A DLQ keeps messages longer than its source queue (a moved message keeps its first enqueue time)."""
    dlq = template["Resources"].get(referenced_resource(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")))
    if dlq is None:
        return []
    source_days = properties.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION) / 86_400
    dlq_days = dlq.get("Properties", {}).get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION) / 86_400
    if dlq_days > source_days:
        return []
    what = f"its DLQ keeps messages {dlq_days:g} days, not longer than the queue's {source_days:g}"
    return [Problem(queue_id, what, "give the DLQ a longer MessageRetentionPeriod (up to 1209600, 14 days)")]


def check_stream_sources(template: Template) -> list[Problem]:
    """Stream mappings are bound to a table of this template, bisect, bound retries and keep failures."""
    problems = []
    for function, name, event in event_sources(template):
        if event.get("Type") not in STREAM_SOURCES:
            continue
        where, properties = f"{function}.{name}", event.get("Properties", {})
        if referenced_resource(properties.get("Stream")) not in template["Resources"]:
            fix = f"set Stream: {{'Fn::GetAtt': [<Table>, StreamArn]}} under {mapping_settings(function, name)}"
            problems.append(Problem(where, "Stream must reference a resource of this template", fix))
        problems += [
            Problem(where, f"stream mapping lacks {key}", f"set {key} under {mapping_settings(function, name)}")
            for key in STREAM_REQUIRED
            if key not in properties
        ]
        if not properties.get("DestinationConfig", {}).get("OnFailure"):
            fix = (
                f"set DestinationConfig.OnFailure.Destination (a queue's Arn) under {mapping_settings(function, name)}"
            )
            problems.append(Problem(where, "stream mapping lacks DestinationConfig.OnFailure", fix))
    return problems


def check_queues(template: Template) -> list[Problem]:
    """Every queue is encrypted."""
    return [
        Problem(queue_id, "not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)", "set SqsManagedSseEnabled: true")
        for queue_id, queue in resources_of(template, "AWS::SQS::Queue")
        if not queue.get("Properties", {}).get("SqsManagedSseEnabled")
        and not queue.get("Properties", {}).get("KmsMasterKeyId")
    ]


def check_tables(template: Template) -> list[Problem]:
    """Every table: on-demand, encrypted, point-in-time recovery."""
    problems = []
    for table_id, table in resources_of(template, "AWS::DynamoDB::Table"):
        properties = table.get("Properties", {})
        if properties.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(Problem(table_id, "BillingMode is not PAY_PER_REQUEST", "set BillingMode: PAY_PER_REQUEST"))
        if not properties.get("SSESpecification", {}).get("SSEEnabled"):
            problems.append(Problem(table_id, "SSESpecification.SSEEnabled is not true", "set SSESpecification"))
        if not properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            fix = "set PointInTimeRecoverySpecification: {PointInTimeRecoveryEnabled: true}"
            problems.append(Problem(table_id, "point-in-time recovery is off", fix))
    return problems


def tls_only_buckets(template: Template) -> set[str | None]:
    """The buckets a bucket policy restricts to aws:SecureTransport."""
    return {
        referenced_resource(policy["Properties"].get("Bucket"))
        for _, policy in resources_of(template, "AWS::S3::BucketPolicy")
        if "aws:SecureTransport" in json.dumps(policy["Properties"].get("PolicyDocument", {}))
    }


def check_buckets(template: Template) -> list[Problem]:
    """Every bucket: public access blocked, encrypted, TLS-only policy, lifecycle rules."""
    problems, tls_only = [], tls_only_buckets(template)
    for bucket_id, bucket in resources_of(template, "AWS::S3::Bucket"):
        properties = bucket.get("Properties", {})
        block = properties.get("PublicAccessBlockConfiguration", {})
        if not all(block.get(key) for key in BUCKET_BLOCKS):
            fix = f"set PublicAccessBlockConfiguration {', '.join(BUCKET_BLOCKS)} all true"
            problems.append(Problem(bucket_id, "public access not fully blocked", fix))
        if not properties.get("BucketEncryption"):
            problems.append(Problem(bucket_id, "no BucketEncryption", "set BucketEncryption (SSE-S3 or KMS)"))
        if not properties.get("LifecycleConfiguration", {}).get("Rules"):
            problems.append(Problem(bucket_id, "no lifecycle rules", "add LifecycleConfiguration.Rules"))
        if bucket_id not in tls_only:
            fix = "add an AWS::S3::BucketPolicy denying requests where aws:SecureTransport is false"
            problems.append(Problem(bucket_id, "no bucket policy denying requests without aws:SecureTransport", fix))
    return problems


def policy_documents(template: Template) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yield (owner, policy document) for every IAM policy the template defines."""
    for role_id, role in resources_of(template, "AWS::IAM::Role"):
        for policy in role["Properties"].get("Policies", []):
            yield role_id, policy["PolicyDocument"]
    for policy_id, policy in resources_of(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        yield policy_id, policy["Properties"]["PolicyDocument"]
    for owner, resource in resources_of(template, "AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
        for policy in resource["Properties"].get("Policies", []):
            if isinstance(policy, dict) and "Statement" in policy:
                yield owner, policy


def statement_problems(owner: str, statement: dict[str, Any]) -> list[Problem]:
    """One policy statement: no NotAction, no wildcard action, "*" resources only where AWS requires it."""
    actions = as_list(statement.get("Action", []))
    problems = []
    if "NotAction" in statement:
        problems.append(Problem(owner, "NotAction grants everything else", "list the actions it needs in Action"))
    problems += [
        Problem(owner, f"wildcard action {action!r}", "list the actions it needs")
        for action in actions
        if "*" in action
    ]
    if "*" in as_list(statement.get("Resource", [])) and statement.get("Effect") == "Allow":
        extra = sorted(set(actions) - STAR_RESOURCE_ACTIONS)
        if extra:
            problems.append(Problem(owner, f"Resource '*' for {extra}", "name the resources' ARNs in its policy file"))
    return problems


def check_policies(template: Template) -> list[Problem]:
    """No wildcard action anywhere; "Resource": "*" only for actions that have no resource-level permissions."""
    return [
        problem
        for owner, document in policy_documents(template)
        for statement in as_list(document.get("Statement", []))
        for problem in statement_problems(owner, statement)
    ]


def log_group_retention(template: Template) -> dict[str, Any]:
    """Each log group's (JSON-encoded) name mapped to its retention."""
    return {
        json.dumps(group["Properties"].get("LogGroupName")): group["Properties"].get("RetentionInDays")
        for _, group in resources_of(template, "AWS::Logs::LogGroup")
    }


def check_functions(template: Template, architecture: str) -> list[Problem]:
    """Every function: the chosen architecture, X-Ray tracing, its own role, a log group with retention."""
    problems, log_groups, roles = [], log_group_retention(template), dict[str, str]()
    for function_id, function in resources_of(template, "AWS::Serverless::Function"):
        properties = function["Properties"]
        if properties.get("Architectures") != [architecture]:
            what = f"Architectures {properties.get('Architectures')} != [{architecture}]"
            problems.append(Problem(function_id, what, f'set "lambda_architecture": "{architecture}" in config.json'))
        if properties.get("Tracing") != "Active":
            problems.append(Problem(function_id, "X-Ray tracing is not Active", 'set "xray": true in config.json'))
        role = str(referenced_resource(properties.get("Role")))
        if role in roles:
            fix = "give the function its own iam_policy_file in config.json's lambda_functions"
            problems.append(Problem(function_id, f"shares role {role} with {roles[role]}", fix))
        roles[role] = function_id
        name = properties.get("FunctionName", {}).get("Fn::Sub", "")
        if not log_groups.get(json.dumps({"Fn::Sub": f"/aws/lambda/{name}"})):
            what = f"no log group with retention named /aws/lambda/{name or '<FunctionName>'}"
            problems.append(Problem(function_id, what, "package with `devstack package` and set log_retention_in_days"))
    return problems


def check_function_environment(template: Template, setting_names: set[str]) -> list[Problem]:
    """Every env var the code reads is set on every function, unless Lambda sets it."""
    problems = []
    for function_id, function in resources_of(template, "AWS::Serverless::Function"):
        env = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        missing = sorted(setting_names - env - RUNTIME_ENV)
        if missing:
            fix = "set them in the stage's environment_variables of .chalice/config.json"
            problems.append(Problem(function_id, f"environment lacks {missing}", fix))
    return problems


def definition_text(properties: dict[str, Any]) -> str:
    """A state machine's definition as text, whichever property holds it."""
    definition = properties.get("Definition", properties.get("DefinitionString", ""))
    return definition if isinstance(definition, str) else json.dumps(definition)


def invokable_functions(template: Template, machine_id: str, role: str | None) -> set[str | None]:
    """The resources a state machine's own policies (or its role's) allow it to invoke."""
    invokable: set[str | None] = set()
    for owner, document in policy_documents(template):
        if owner not in (machine_id, role):
            continue
        for statement in as_list(document.get("Statement", [])):
            if any(action.startswith("lambda:Invoke") for action in as_list(statement.get("Action", []))):
                invokable |= {referenced_resource(resource) for resource in as_list(statement.get("Resource", []))}
    return invokable


def machine_problems(template: Template, machine_id: str, properties: dict[str, Any]) -> list[Problem]:
    """One state machine: inlined, every placeholder substituted, its role invoking exactly its tasks."""
    problems = []
    if "DefinitionUri" in properties:
        problems.append(Problem(machine_id, "DefinitionUri left in the template", "package with `devstack package`"))
    placeholders = set(re.findall(r"\$\{([^}]+)\}", definition_text(properties)))
    substitutions = properties.get("DefinitionSubstitutions", {})
    problems += [
        Problem(machine_id, f"placeholder {name!r} has no DefinitionSubstitutions entry", f"add {name} to them")
        for name in sorted(placeholders - substitutions.keys())
    ]
    targets = {referenced_resource(value) for value in substitutions.values()}
    problems += [
        Problem(machine_id, f"substitution target {target} is not in the template", "fix the substitution's GetAtt")
        for target in sorted(map(str, targets))
        if target not in template["Resources"]
    ]
    tasks = targets & {logical_id for logical_id, _ in resources_of(template, "AWS::Serverless::Function")}
    invokable = invokable_functions(template, machine_id, referenced_resource(properties.get("Role")))
    if invokable and invokable != tasks:
        what = f"role may invoke {sorted(map(str, invokable))}, tasks are {sorted(map(str, tasks))}"
        problems.append(Problem(machine_id, what, "make its lambda:InvokeFunction resources the task functions"))
    return problems


def check_state_machines(template: Template) -> list[Problem]:
    """Every ${...} of a definition resolves via DefinitionSubstitutions; the role invokes only those functions."""
    kinds = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")
    return [
        problem
        for machine_id, machine in resources_of(template, *kinds)
        for problem in machine_problems(template, machine_id, machine["Properties"])
    ]


# What every resource of a kind must have an alarm on: (namespace, metric, dimension).
FUNCTION_ALARMS = (("AWS/Lambda", "Errors", "FunctionName"), ("AWS/Lambda", "Throttles", "FunctionName"))
STREAM_ALARM = ("AWS/Lambda", "IteratorAge", "FunctionName")
DLQ_ALARM = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
MACHINE_ALARMS = (
    ("AWS/States", "ExecutionsFailed", "StateMachineArn"),
    ("AWS/States", "ExecutionsTimedOut", "StateMachineArn"),
)


def alarm_targets(template: Template) -> set[tuple[str, str, str, str]]:
    """(namespace, metric, dimension, logical id) for every alarm whose dimension names a resource of this template."""
    found = set()
    for _alarm_id, alarm in resources_of(template, "AWS::CloudWatch::Alarm"):
        properties = alarm.get("Properties", {})
        for dimension in properties.get("Dimensions", []):
            target = referenced_resource(dimension.get("Value"))
            if target is not None:
                found.add((properties.get("Namespace"), properties.get("MetricName"), dimension.get("Name"), target))
    return found


def required_alarms(template: Template) -> Iterator[tuple[str, tuple[str, str, str]]]:
    """(logical id, (namespace, metric, dimension)) for every alarm the template must have."""
    for function_id, _function in resources_of(template, "AWS::Serverless::Function", "AWS::Lambda::Function"):
        yield from ((function_id, alarm) for alarm in FUNCTION_ALARMS)
    for function_id in sorted(
        {f for f, _name, event in event_sources(template) if event.get("Type") in STREAM_SOURCES}
    ):
        yield function_id, STREAM_ALARM
    for queue_id in sorted(dead_letter_queues(template) & set(template["Resources"])):
        yield queue_id, DLQ_ALARM
    for machine_id, _machine in resources_of(
        template, "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"
    ):
        yield from ((machine_id, alarm) for alarm in MACHINE_ALARMS)


def alarm_fix(target: str, namespace: str, metric: str, dimension: str) -> str:
    """How to add the missing alarm, with the dimension that names the resource."""
    value = f"{{'Fn::GetAtt': [{target}, QueueName]}}" if dimension == "QueueName" else f"{{'Ref': {target}}}"
    return (
        f"add an AWS::CloudWatch::Alarm on {namespace} {metric} with Dimensions [{{Name: {dimension}, Value: {value}}}]"
        " and AlarmActions to the resources file"
    )


def check_alarms(template: Template) -> list[Problem]:
    """Every function, stream mapping, DLQ and state machine has its alarms, and every alarm notifies someone."""
    present = alarm_targets(template)
    problems = []
    for target, (namespace, metric, dimension) in required_alarms(template):
        if (namespace, metric, dimension, target) not in present:
            problems.append(Problem(target, f"no {metric} alarm", alarm_fix(target, namespace, metric, dimension)))
    problems += [
        Problem(alarm_id, "alarm notifies nobody (no AlarmActions)", "set AlarmActions: [{'Ref': <alarm SNS topic>}]")
        for alarm_id, alarm in resources_of(template, "AWS::CloudWatch::Alarm")
        if not alarm.get("Properties", {}).get("AlarmActions")
    ]
    return problems


CHECKS: dict[str, Callable[[Template], list[Problem]]] = {
    "batch failure reporting": check_batch_failure_reporting,
    "source queues": check_source_queues,
    "stream sources": check_stream_sources,
    "queues": check_queues,
    "tables": check_tables,
    "buckets": check_buckets,
    "policies": check_policies,
    "state machines": check_state_machines,
    "alarms": check_alarms,
}


def run_all(template: Template, architecture: str, setting_names: set[str]) -> list[Problem]:
    """Every check's problems, in one list."""
    problems = [problem for check in CHECKS.values() for problem in check(template)]
    return problems + check_functions(template, architecture) + check_function_environment(template, setting_names)
