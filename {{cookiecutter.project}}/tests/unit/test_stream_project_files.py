"""The stream's resources, env vars and mapping patch agree with each other and with the app."""

import pytest
from chalice_devstack.intrinsics import Scope, default_parameters, resolve

from tests.conftest import PROJECT


@pytest.mark.parametrize(
    ("variable", "resource", "name_property"),
    [
        ("ACTIVITY_TABLE", "ActivityTable", "TableName"),
        ("DOMAIN_EVENTS_TOPIC", "DomainEventsTopic", "TopicName"),
        ("DOMAIN_EVENTS_TOPIC", "DomainEventsQueue", "QueueName"),
        ("STREAM_DLQ", "StreamDeadLetterQueue", "QueueName"),
    ],
)
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stream_resource_names_in_chalice_config_match_resources_yaml(
    stage: str, variable: str, resource: str, name_property: str
) -> None:
    template = PROJECT.resources()
    scope = Scope(default_parameters(template, stage, "us-east-1", PROJECT.name), {})
    name = resolve(template["Resources"][resource]["Properties"][name_property], scope)
    assert PROJECT.function_environment(stage)[variable] == name


def test_the_mapping_patch_sits_where_chalice_package_puts_the_stream_trigger() -> None:
    # Given the app's DynamoDB stream handlers and the patch in resources.yaml
    from app import app

    names = [source.name for source in app.event_sources if hasattr(source, "stream_arn")]
    assert names == ["record_activity"]
    patch = PROJECT.resources()["Resources"]["RecordActivity"]
    # Then the patch is keyed as `chalice package` names the function and its trigger, binds the
    # real stream, and sets what Chalice cannot
    mapping = patch["Properties"]["Events"]["RecordActivityDynamodbEventSource"]["Properties"]
    assert mapping["Stream"] == {"Fn::GetAtt": ["ServiceTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] >= 1 and mapping["MaximumRecordAgeInSeconds"] >= 60
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["StreamDeadLetterQueue", "Arn"]}
    assert "Type" not in patch
