"""Create the resources of infra/resources.yaml on an AWS endpoint (moto, locally)."""

from collections.abc import Callable
from typing import Any

from devstack.project import ProjectFileError, Scope, default_parameters, load_resources, resolve

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


Creator = Callable[[Any, dict[str, Any]], dict[str, str]]
CREATORS: dict[str, tuple[str, Creator]] = {
    "AWS::DynamoDB::Table": ("dynamodb", create_table),
}


def provision(
    clients: Callable[[str], Any], stage: str = "dev", region: str = "us-east-1", template: dict[str, Any] | None = None
) -> Scope:
    """Create every supported resource, in template order; return the resolved scope.

    `clients(service_name)` returns a boto3 client for that service.
    """
    template = template if template is not None else load_resources()
    scope = Scope(default_parameters(template, stage, region), {})
    for logical_id, resource in template["Resources"].items():
        kind = resource.get("Type")
        if kind not in CREATORS:
            continue
        service, creator = CREATORS[kind]
        try:
            properties = resolve(resource.get("Properties", {}), scope)
            scope.attributes[logical_id] = creator(clients(service), properties)
        except ProjectFileError:
            raise
        except Exception as error:
            raise ProjectFileError(f"resources.yaml: cannot create {logical_id} ({kind}): {error}") from error
    return scope
