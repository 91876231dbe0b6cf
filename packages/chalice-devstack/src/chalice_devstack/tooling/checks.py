"""Walk a packaged template (dist/sam.json) and report what breaks the service's deployment rules.

Each check returns a list of problems (empty = fine), so tests can assert on them and a
deliberately broken template shows that every check can fail.
Usage: python -m scripts.template_checks dist/sam.json
"""

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    """The logical id an ARN value points at: {"Fn::GetAtt": [X, ...]} or {"Fn::Sub": "${X.Arn}"}."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return str(target[0] if isinstance(target, list) else target.split(".", 1)[0])
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.Arn\}", value["Fn::Sub"])
        return match.group(1) if match else None
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    return None


def check_batch_failure_reporting(template: Template) -> list[str]:
    """Every SQS and stream mapping reports partial batch failures."""
    return [
        f"{function}.{name}: {event['Type']} mapping lacks FunctionResponseTypes: [ReportBatchItemFailures]"
        for function, name, event in event_sources(template)
        if event.get("Type") in BATCH_SOURCES
        and "ReportBatchItemFailures" not in event.get("Properties", {}).get("FunctionResponseTypes", [])
    ]


def check_source_queues(template: Template) -> list[str]:
    """Every SQS source is a queue of this template, with a DLQ that outlives it and a visibility timeout >= 6x."""
    problems = []
    for function, name, event in event_sources(template):
        if event.get("Type") != "SQS":
            continue
        queue_id = referenced_resource(event["Properties"].get("Queue")) or ""
        queue = template["Resources"].get(queue_id)
        if queue is None or queue.get("Type") != "AWS::SQS::Queue":
            problems.append(f"{function}.{name}: Queue must reference an AWS::SQS::Queue of this template")
            continue
        properties = queue.get("Properties", {})
        redrive = properties.get("RedrivePolicy", {})
        if not redrive.get("deadLetterTargetArn") or not redrive.get("maxReceiveCount"):
            problems.append(f"{queue_id}: source queue of {function} has no RedrivePolicy to a DLQ")
        problems += check_dlq_retention(template, queue_id, properties)
        timeout = template["Resources"][function]["Properties"].get("Timeout", 3)
        visibility = properties.get("VisibilityTimeout", SQS_DEFAULT_VISIBILITY)
        if visibility < VISIBILITY_FACTOR * timeout:
            problems.append(
                f"{queue_id}: VisibilityTimeout {visibility} < {VISIBILITY_FACTOR} x {function} Timeout {timeout}"
            )
    return problems


def check_dlq_retention(template: Template, queue_id: str, properties: dict[str, Any]) -> list[str]:
    """A DLQ keeps messages longer than its source queue (a moved message keeps its first enqueue time)."""
    dlq = template["Resources"].get(referenced_resource(properties.get("RedrivePolicy", {}).get("deadLetterTargetArn")))
    if dlq is None:
        return []
    source_days = properties.get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION) / 86_400
    dlq_days = dlq.get("Properties", {}).get("MessageRetentionPeriod", SQS_DEFAULT_RETENTION) / 86_400
    if dlq_days > source_days:
        return []
    return [f"{queue_id}: its DLQ keeps messages {dlq_days:g} days, not longer than the queue's {source_days:g}"]


def check_stream_sources(template: Template) -> list[str]:
    """Stream mappings are bound to a table of this template, bisect, bound retries and keep failures."""
    required = ("BisectBatchOnFunctionError", "MaximumRetryAttempts", "MaximumRecordAgeInSeconds")
    problems = []
    for function, name, event in event_sources(template):
        if event.get("Type") not in STREAM_SOURCES:
            continue
        properties = event.get("Properties", {})
        if referenced_resource(properties.get("Stream")) not in template["Resources"]:
            problems.append(f"{function}.{name}: Stream must reference a resource of this template")
        problems += [f"{function}.{name}: stream mapping lacks {key}" for key in required if key not in properties]
        if not properties.get("DestinationConfig", {}).get("OnFailure"):
            problems.append(f"{function}.{name}: stream mapping lacks DestinationConfig.OnFailure")
    return problems


def check_queues(template: Template) -> list[str]:
    """Every queue is encrypted."""
    return [
        f"{queue_id}: not encrypted (SqsManagedSseEnabled or KmsMasterKeyId)"
        for queue_id, queue in resources_of(template, "AWS::SQS::Queue")
        if not queue.get("Properties", {}).get("SqsManagedSseEnabled")
        and not queue.get("Properties", {}).get("KmsMasterKeyId")
    ]


def check_tables(template: Template) -> list[str]:
    """Every table: on-demand, encrypted, point-in-time recovery."""
    problems = []
    for table_id, table in resources_of(template, "AWS::DynamoDB::Table"):
        properties = table.get("Properties", {})
        if properties.get("BillingMode") != "PAY_PER_REQUEST":
            problems.append(f"{table_id}: BillingMode is not PAY_PER_REQUEST")
        if not properties.get("SSESpecification", {}).get("SSEEnabled"):
            problems.append(f"{table_id}: SSESpecification.SSEEnabled is not true")
        if not properties.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
            problems.append(f"{table_id}: point-in-time recovery is off")
    return problems


def check_buckets(template: Template) -> list[str]:
    """Every bucket: public access blocked, encrypted, TLS-only policy, lifecycle rules."""
    problems = []
    tls_only = {
        referenced_resource(policy["Properties"].get("Bucket"))
        for _, policy in resources_of(template, "AWS::S3::BucketPolicy")
        if "aws:SecureTransport" in json.dumps(policy["Properties"].get("PolicyDocument", {}))
    }
    for bucket_id, bucket in resources_of(template, "AWS::S3::Bucket"):
        properties = bucket.get("Properties", {})
        block = properties.get("PublicAccessBlockConfiguration", {})
        keys = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        if not all(block.get(key) for key in keys):
            problems.append(f"{bucket_id}: public access not fully blocked")
        if not properties.get("BucketEncryption"):
            problems.append(f"{bucket_id}: no BucketEncryption")
        if not properties.get("LifecycleConfiguration", {}).get("Rules"):
            problems.append(f"{bucket_id}: no lifecycle rules")
        if bucket_id not in tls_only:
            problems.append(f"{bucket_id}: no bucket policy denying requests without aws:SecureTransport")
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


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def check_policies(template: Template) -> list[str]:
    """No wildcard action anywhere; "Resource": "*" only for actions that have no resource-level permissions."""
    problems = []
    for owner, document in policy_documents(template):
        for statement in _as_list(document.get("Statement", [])):
            actions = _as_list(statement.get("Action", []))
            if "NotAction" in statement:
                problems.append(f"{owner}: NotAction grants everything else")
            problems += [f"{owner}: wildcard action {action!r}" for action in actions if "*" in action]
            if "*" in _as_list(statement.get("Resource", [])) and statement.get("Effect") == "Allow":
                extra = sorted(set(actions) - STAR_RESOURCE_ACTIONS)
                if extra:
                    problems.append(f"{owner}: Resource '*' for {extra}")
    return problems


def check_functions(template: Template, architecture: str) -> list[str]:
    """Every function: the chosen architecture, X-Ray tracing, its own role, a log group with retention."""
    problems = []
    log_groups = {
        json.dumps(group["Properties"].get("LogGroupName")): group["Properties"].get("RetentionInDays")
        for _, group in resources_of(template, "AWS::Logs::LogGroup")
    }
    roles: dict[str, str] = {}
    for function_id, function in resources_of(template, "AWS::Serverless::Function"):
        properties = function["Properties"]
        if properties.get("Architectures") != [architecture]:
            problems.append(f"{function_id}: Architectures {properties.get('Architectures')} != [{architecture}]")
        if properties.get("Tracing") != "Active":
            problems.append(f"{function_id}: X-Ray tracing is not Active")
        role = str(referenced_resource(properties.get("Role")))
        if role in roles:
            problems.append(f"{function_id}: shares role {role} with {roles[role]}")
        roles[role] = function_id
        name = properties.get("FunctionName", {}).get("Fn::Sub", "")
        if not log_groups.get(json.dumps({"Fn::Sub": f"/aws/lambda/{name}"})):
            problems.append(f"{function_id}: no log group with retention named /aws/lambda/{name or '<FunctionName>'}")
    return problems


def check_function_environment(template: Template, setting_names: set[str]) -> list[str]:
    """Every env var the code reads (Settings fields) is set on every function, unless Lambda sets it."""
    problems = []
    for function_id, function in resources_of(template, "AWS::Serverless::Function"):
        env = set(function["Properties"].get("Environment", {}).get("Variables", {}))
        missing = sorted(setting_names - env - RUNTIME_ENV)
        if missing:
            problems.append(f"{function_id}: environment lacks {missing} (set them in .chalice/config.json)")
    return problems


def _definition_text(properties: dict[str, Any]) -> str:
    definition = properties.get("Definition", properties.get("DefinitionString", ""))
    return definition if isinstance(definition, str) else json.dumps(definition)


def check_state_machines(template: Template) -> list[str]:
    """Every ${...} of a definition resolves via DefinitionSubstitutions; the role invokes only those functions."""
    problems = []
    functions = {logical_id for logical_id, _ in resources_of(template, "AWS::Serverless::Function")}
    for machine_id, machine in resources_of(
        template, "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine"
    ):
        properties = machine["Properties"]
        if "DefinitionUri" in properties:
            problems.append(f"{machine_id}: DefinitionUri left in the template (package inlines it)")
        placeholders = set(re.findall(r"\$\{([^}]+)\}", _definition_text(properties)))
        substitutions = properties.get("DefinitionSubstitutions", {})
        problems += [
            f"{machine_id}: placeholder {name!r} has no DefinitionSubstitutions entry"
            for name in sorted(placeholders - substitutions.keys())
        ]
        targets = {referenced_resource(value) for value in substitutions.values()}
        problems += [
            f"{machine_id}: substitution target {target} is not in the template"
            for target in sorted(map(str, targets))
            if target not in template["Resources"]
        ]
        task_functions = targets & functions
        invokable: set[str | None] = set()
        for owner, document in policy_documents(template):
            owned = owner == machine_id or owner == referenced_resource(properties.get("Role"))
            for statement in _as_list(document.get("Statement", [])) if owned else []:
                if any(action.startswith("lambda:Invoke") for action in _as_list(statement.get("Action", []))):
                    invokable |= {referenced_resource(resource) for resource in _as_list(statement.get("Resource", []))}
        if invokable and invokable != task_functions:
            problems.append(
                f"{machine_id}: role may invoke {sorted(map(str, invokable))},"
                f" tasks are {sorted(map(str, task_functions))}"
            )
    return problems


CHECKS: dict[str, Callable[[Template], list[str]]] = {
    "batch failure reporting": check_batch_failure_reporting,
    "source queues": check_source_queues,
    "stream sources": check_stream_sources,
    "queues": check_queues,
    "tables": check_tables,
    "buckets": check_buckets,
    "policies": check_policies,
    "state machines": check_state_machines,
}


def run_all(template: Template, architecture: str, setting_names: set[str]) -> list[str]:
    """Every check's problems, in one list."""
    problems = [problem for check in CHECKS.values() for problem in check(template)]
    return problems + check_functions(template, architecture) + check_function_environment(template, setting_names)


def setting_env_names() -> set[str]:
    """The env var names chalicelib.config.Settings reads (field names, or their aliases), upper-cased."""
    from pydantic import AliasChoices

    from chalicelib.config import Settings

    names = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or field_name]
        names |= {str(choice).upper() for choice in choices[:1]}
    return names


def main(argv: list[str] | None = None) -> int:
    """Print every problem of a packaged template; exit 1 if there is any."""
    args = argv if argv is not None else sys.argv[1:]
    template = json.loads(Path(args[0] if args else "dist/sam.json").read_text())
    config = json.loads(Path(".chalice/config.json").read_text())
    problems = run_all(template, config["lambda_architecture"], setting_env_names())
    print("\n".join(problems) or "template checks: no problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
