"""The project's files agree with each other: one source of truth per fact."""

import tomllib

import pytest

from devstack.project import PROJECT_DIR, Scope, default_parameters, function_environment, load_resources, resolve


def test_requirements_txt_matches_the_runtime_dependencies() -> None:
    pyproject = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text())
    lines = (PROJECT_DIR / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == pyproject["project"]["dependencies"]
    assert not any(line.startswith(("boto3", "botocore")) for line in requirements)


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_table_names_in_chalice_config_match_resources_yaml(stage: str) -> None:
    template = load_resources()
    scope = Scope(default_parameters(template, stage, "us-east-1"), {})
    table_name = resolve(template["Resources"]["ServiceTable"]["Properties"]["TableName"], scope)
    assert function_environment(stage)["SERVICE_TABLE"] == table_name


def test_resources_yaml_uses_long_form_intrinsics_only() -> None:
    text = (PROJECT_DIR / "infra" / "resources.yaml").read_text()
    assert "!Ref" not in text and "!GetAtt" not in text and "!Sub" not in text


NAME_PROPERTIES = ("TableName", "QueueName", "Name", "BucketName", "TopicName")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_resource_name_in_chalice_config_names_a_resource_of_resources_yaml(stage: str) -> None:
    template = load_resources()
    scope = Scope(default_parameters(template, stage, "us-east-1"), {})
    names = {
        resolve(resource["Properties"][key], scope)
        for resource in template["Resources"].values()
        if "Type" in resource and not resource["Type"].startswith("AWS::CloudWatch::")
        for key in NAME_PROPERTIES
        if key in resource.get("Properties", {})
    }
    env = function_environment(stage)
    prefix = f"{env['SERVICE_NAME']}-{stage}-"
    named_in_config = {value for value in env.values() if value.startswith(prefix)}
    assert named_in_config and named_in_config <= names
