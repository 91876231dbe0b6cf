"""Create the resources of a project's resources file (infra/resources.yaml) on an AWS endpoint (moto, locally)."""

import json
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from chalice_devstack.cognito import POOL_ID_TAG, provider_name, stable_pool_id
from chalice_devstack.intrinsics import Scope, default_parameters, resolve
from chalice_devstack.project import LOCAL_ACCOUNT_ID, Project, ProjectFileError

log = logging.getLogger(__name__)

# Keys whose CloudFormation shape boto3's create_table does not accept as-is.
_TABLE_KEYS = ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes")


def table_request(properties: dict[str, Any]) -> dict[str, Any]:
    """Translate AWS::DynamoDB::Table properties into a create_table request."""
    request = {key: properties[key] for key in _TABLE_KEYS if key in properties}
    if "StreamSpecification" in properties:
        view = properties["StreamSpecification"]["StreamViewType"]
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": view}
    if properties.get("SSESpecification", {}).get("SSEEnabled"):
        request["SSESpecification"] = {"Enabled": True}
    return request


def create_table(dynamodb: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one table (and its TTL); return its Ref/Arn/StreamArn attributes."""
    description = dynamodb.create_table(**table_request(properties))["TableDescription"]
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        dynamodb.update_time_to_live(TableName=description["TableName"], TimeToLiveSpecification=ttl)
    attributes = {"Ref": description["TableName"], "Arn": description["TableArn"]}
    if "LatestStreamArn" in description:
        attributes["StreamArn"] = description["LatestStreamArn"]
    return attributes


def create_queue(sqs: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one SQS queue (RedrivePolicy included); return its Ref/Arn/QueueName/QueueUrl."""
    attributes = {
        key: json.dumps(value)
        if isinstance(value, dict)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for key, value in properties.items()
        if key not in ("QueueName", "Tags")
    }
    url = sqs.create_queue(QueueName=properties["QueueName"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return {"Ref": url, "Arn": arn, "QueueName": properties["QueueName"], "QueueUrl": url}


def create_queue_policy(sqs: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Attach a policy to each named queue (by URL, as Ref gives it)."""
    for url in properties["Queues"]:
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])})
    return {}


def create_topic(sns: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one SNS topic; return its Ref (the ARN, as CloudFormation gives it)/TopicArn/TopicName."""
    attributes = {key: str(properties[key]) for key in ("KmsMasterKeyId", "DisplayName") if key in properties}
    arn = sns.create_topic(Name=properties["TopicName"], Attributes=attributes)["TopicArn"]
    return {"Ref": arn, "TopicArn": arn, "TopicName": properties["TopicName"]}


def create_subscription(sns: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Subscribe an endpoint to a topic (RawMessageDelivery and FilterPolicy included)."""
    attributes = {"RawMessageDelivery": str(properties.get("RawMessageDelivery", False)).lower()}
    if "FilterPolicy" in properties:
        attributes["FilterPolicy"] = json.dumps(properties["FilterPolicy"])
    arn = sns.subscribe(
        TopicArn=properties["TopicArn"],
        Protocol=properties["Protocol"],
        Endpoint=properties["Endpoint"],
        Attributes=attributes,
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    return {"Ref": arn}


def create_stream(kinesis: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one Kinesis stream (provisioned shards or on-demand); return its Ref (the name)/Arn."""
    name = properties["Name"]
    mode = properties.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
    if mode == "ON_DEMAND":
        kinesis.create_stream(StreamName=name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
    else:
        kinesis.create_stream(StreamName=name, ShardCount=int(properties.get("ShardCount", 1)))
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return {"Ref": name, "Arn": arn}


def state_machine_definition(properties: dict[str, Any]) -> str:
    """The ASL of a state machine: DefinitionUri (made absolute by provision) or Definition, with
    DefinitionSubstitutions' ${Name} placeholders filled in."""
    if "DefinitionUri" in properties:
        text = Path(properties["DefinitionUri"]).read_text()
    else:
        text = properties.get("DefinitionString") or json.dumps(properties["Definition"])
    substitutions = properties.get("DefinitionSubstitutions", {})
    return re.sub(r"\$\{([^}]+)\}", lambda match: str(substitutions.get(match.group(1), match.group(0))), text)


def create_state_machine(sfn: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one Step Functions state machine; return its Ref/Arn/Name."""
    name = properties.get("Name") or properties["StateMachineName"]
    role = properties.get("Role") or properties.get("RoleArn") or f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{name}"
    arn = sfn.create_state_machine(name=name, definition=state_machine_definition(properties), roleArn=role)[
        "stateMachineArn"
    ]
    return {"Ref": arn, "Arn": arn, "Name": name}


def _notification_request(configuration: dict[str, Any]) -> dict[str, Any]:
    """Translate NotificationConfiguration.QueueConfigurations into put_bucket_notification_configuration's shape."""
    queues = []
    for entry in configuration.get("QueueConfigurations", []):
        request: dict[str, Any] = {"QueueArn": entry["Queue"], "Events": [entry["Event"]]}
        rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules", [])
        if rules:
            # CloudFormation spells the rule names Prefix/Suffix; the S3 API takes them in any case, moto lower only.
            filters = [{"Name": r["Name"].lower(), "Value": r["Value"]} for r in rules]
            request["Filter"] = {"Key": {"FilterRules": filters}}
        queues.append(request)
    return {"QueueConfigurations": queues}


# CloudFormation's CorsRule keys where the S3 API spells them differently.
_CORS_KEYS = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}


def create_bucket(s3: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one S3 bucket with its public access block, encryption, CORS and queue notifications.

    moto's CloudFormation does not apply notification configurations, so they are set here;
    moto then delivers object-created events to the queue as S3 does.
    """
    name = properties["BucketName"]
    region = s3.meta.region_name
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    if "PublicAccessBlockConfiguration" in properties:
        s3.put_public_access_block(
            Bucket=name, PublicAccessBlockConfiguration=properties["PublicAccessBlockConfiguration"]
        )
    encryption = properties.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
    if encryption:
        # CloudFormation says ServerSideEncryptionByDefault where the S3 API says ApplyServerSideEncryptionByDefault.
        rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]} for rule in encryption]
        s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    if "CorsConfiguration" in properties:
        rules = [
            {_CORS_KEYS.get(key, key): value for key, value in rule.items()}
            for rule in properties["CorsConfiguration"]["CorsRules"]
        ]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    if "NotificationConfiguration" in properties:
        s3.put_bucket_notification_configuration(
            Bucket=name, NotificationConfiguration=_notification_request(properties["NotificationConfiguration"])
        )
    return {"Ref": name, "Arn": f"arn:aws:s3:::{name}", "DomainName": f"{name}.s3.amazonaws.com"}


def create_bucket_policy(s3: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Attach a bucket policy, less its TLS-only deny: the local endpoint is plain HTTP on loopback,
    and moto enforces bucket policies, so that statement would refuse every local request."""
    document = dict(properties["PolicyDocument"])
    statements = document.get("Statement", [])
    document["Statement"] = [
        statement
        for statement in (statements if isinstance(statements, list) else [statements])
        if "aws:SecureTransport" not in json.dumps(statement.get("Condition", {}))
    ]
    if document["Statement"]:
        s3.put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(document))
    return {}


def api_request(client: Any, operation: str, properties: dict[str, Any]) -> dict[str, Any]:
    """The properties an API operation takes (CloudFormation-only ones, e.g. a pool's EnabledMfas, left out)."""
    members = client.meta.service_model.operation_model(operation).input_shape.members
    left_out = sorted(set(properties) - set(members))
    if left_out:
        log.debug("devstack: %s does not take %s; left out locally", operation, ", ".join(left_out))
    return {key: value for key, value in properties.items() if key in members}


def create_user_pool(idp: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one Cognito user pool (under the id its POOL_ID_TAG asks for); return its Ref (the id)/Arn/
    ProviderName/ProviderURL/UserPoolId."""
    request = api_request(idp, "CreateUserPool", {"PoolName": properties["UserPoolName"], **properties})
    pool = idp.create_user_pool(**request)["UserPool"]
    provider = provider_name(idp.meta.region_name, pool["Id"])
    return {
        "Ref": pool["Id"],
        "UserPoolId": pool["Id"],
        "Arn": pool["Arn"],
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
    }


def create_user_pool_client(idp: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one app client of a user pool; return its Ref (the client id)/ClientId/ClientSecret/Name."""
    client = idp.create_user_pool_client(**api_request(idp, "CreateUserPoolClient", properties))["UserPoolClient"]
    return {
        "Ref": client["ClientId"],
        "ClientId": client["ClientId"],
        "ClientSecret": client.get("ClientSecret", ""),
        "Name": client["ClientName"],
    }


def create_user_pool_group(idp: Any, properties: dict[str, Any]) -> dict[str, str]:
    """Create one group of a user pool; return its Ref (the group name)."""
    group = idp.create_group(**api_request(idp, "CreateGroup", properties))["Group"]
    return {"Ref": group["GroupName"]}


def skip(_client: Any, _properties: dict[str, Any]) -> dict[str, str]:
    """Resources with no local effect (alarms, IAM): nothing to create."""
    return {}


Creator = Callable[[Any, dict[str, Any]], dict[str, str]]
# CloudFormation type -> (boto3 service, creator). Types not listed are skipped with a debug line
# (packaging-only types); the skip entries are types that have no local effect on purpose.
CREATORS: dict[str, tuple[str, Creator]] = {
    "AWS::DynamoDB::Table": ("dynamodb", create_table),
    "AWS::SQS::Queue": ("sqs", create_queue),
    "AWS::SQS::QueuePolicy": ("sqs", create_queue_policy),
    "AWS::Kinesis::Stream": ("kinesis", create_stream),
    "AWS::SNS::Topic": ("sns", create_topic),
    "AWS::SNS::Subscription": ("sns", create_subscription),
    "AWS::Serverless::StateMachine": ("stepfunctions", create_state_machine),
    "AWS::StepFunctions::StateMachine": ("stepfunctions", create_state_machine),
    "AWS::S3::Bucket": ("s3", create_bucket),
    "AWS::S3::BucketPolicy": ("s3", create_bucket_policy),
    "AWS::Cognito::UserPool": ("cognito-idp", create_user_pool),
    "AWS::Cognito::UserPoolClient": ("cognito-idp", create_user_pool_client),
    "AWS::Cognito::UserPoolGroup": ("cognito-idp", create_user_pool_group),
    "AWS::CloudWatch::Alarm": ("cloudwatch", skip),  # moto cannot evaluate alarms
    "AWS::IAM::Role": ("iam", skip),  # devstack enforces no IAM
    "AWS::IAM::Policy": ("iam", skip),
    "AWS::IAM::ManagedPolicy": ("iam", skip),
}


def services_used(template: dict[str, Any]) -> list[str]:
    """The boto3 services devstack calls for this template: its resources' and, with a stream, DynamoDB Streams."""
    resources = [r for r in template.get("Resources", {}).values() if isinstance(r, dict)]
    kinds = {resource.get("Type") for resource in resources}
    used = {CREATORS[kind][0] for kind in kinds if kind in CREATORS and CREATORS[kind][1] is not skip}
    if any("StreamSpecification" in resource.get("Properties", {}) for resource in resources):
        used.add("dynamodbstreams")
    return sorted(used)


def provision(
    clients: Callable[[str], Any],
    project: Project,
    stage: str = "dev",
    region: str = "us-east-1",
    template: dict[str, Any] | None = None,
    functions: Mapping[str, dict[str, str]] | None = None,
) -> Scope:
    """Create every supported resource, in dependency order; return the resolved scope.

    `clients(service_name)` returns a boto3 client for that service; `functions` gives the
    Lambda functions' attributes by logical id (Ref, Arn) for intrinsics that name them
    (chalice_devstack.functions.FunctionRegistry.attributes()).
    """
    template = template if template is not None else project.resources()
    scope = Scope(default_parameters(template, stage, region, project.name), dict(functions or {}))
    for logical_id in creation_order(template):
        resource = template["Resources"][logical_id]
        kind = resource["Type"]
        if kind not in CREATORS:
            log.debug("devstack: %s (%s) has no local emulation; skipped", logical_id, kind)
            continue
        service, creator = CREATORS[kind]
        if creator is skip:
            log.debug("devstack: %s (%s) skipped (no local effect)", logical_id, kind)
            scope.attributes[logical_id] = {}
            continue
        try:
            properties = with_logical_defaults(kind, logical_id, resolve(resource.get("Properties", {}), scope), scope)
            if "DefinitionUri" in properties:  # project-relative, as `aws cloudformation package` reads it
                properties["DefinitionUri"] = str(project.root / properties["DefinitionUri"])
            scope.attributes[logical_id] = creator(clients(service), properties)
        except ProjectFileError:
            raise
        except Exception as error:
            raise ProjectFileError(f"resources.yaml: cannot create {logical_id} ({kind}): {error}") from error
    return scope


# The name property CloudFormation fills in (`<stack>-<LogicalId>-<random>`) when a template leaves it out;
# devstack leaves out the random part, so a name stays the same from one start to the next.
GENERATED_NAMES = {
    "AWS::Cognito::UserPool": "UserPoolName",
    "AWS::Cognito::UserPoolClient": "ClientName",
    "AWS::Cognito::UserPoolGroup": "GroupName",
}


def with_logical_defaults(kind: str, logical_id: str, properties: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """properties plus what follows from the logical id: a generated name, and a user pool's stable id (as a tag)."""
    name_key = GENERATED_NAMES.get(kind)
    if name_key and not properties.get(name_key):
        properties[name_key] = f"{scope.ref('AWS::StackName')}-{logical_id}"
    if kind == "AWS::Cognito::UserPool":
        tags = properties.setdefault("UserPoolTags", {})
        tags[POOL_ID_TAG] = stable_pool_id(scope.ref("AWS::Region"), logical_id)
    return properties


def user_pool_arns(template: dict[str, Any], scope: Scope) -> list[str]:
    """The ARNs of the user pools provisioned from template."""
    return [
        scope.get_att(logical_id, "Arn")
        for logical_id, resource in template.get("Resources", {}).items()
        if isinstance(resource, dict) and resource.get("Type") == "AWS::Cognito::UserPool"
    ]


def creation_order(template: dict[str, Any]) -> list[str]:
    """Logical ids of the typed resources, each after the resources it refers to (file order otherwise)."""
    resources = {
        key: value for key, value in template["Resources"].items() if isinstance(value, dict) and "Type" in value
    }
    needs = {
        key: set(references(value.get("Properties", {}))) & set(resources) - {key} for key, value in resources.items()
    }
    needs = {key: deps | set(_depends_on(resources[key])) & set(resources) for key, deps in needs.items()}
    ordered: list[str] = []
    visiting: set[str] = set()

    def visit(key: str) -> None:
        if key in ordered:
            return
        if key in visiting:
            raise ProjectFileError(f"resources.yaml: circular reference involving {key}")
        visiting.add(key)
        for dependency in sorted(needs[key], key=list(resources).index):
            visit(dependency)
        visiting.discard(key)
        ordered.append(key)

    for key in resources:
        visit(key)
    return ordered


def _depends_on(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def references(value: Any) -> Iterator[str]:
    """Every logical id (or parameter) an intrinsic inside value names: Ref, Fn::GetAtt, Fn::Sub."""
    if isinstance(value, list):
        for item in value:
            yield from references(item)
    elif isinstance(value, dict):
        for key, arg in value.items():
            if key == "Ref" and isinstance(arg, str):
                yield arg
            elif key == "Fn::GetAtt":
                yield arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
            elif key == "Fn::Sub":
                text = arg if isinstance(arg, str) else arg[0]
                yield from (name.split(".", 1)[0] for name in re.findall(r"\$\{([^}!]+)\}", text))
                if isinstance(arg, list):
                    yield from references(arg[1])
            else:
                yield from references(arg)
