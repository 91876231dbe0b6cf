"""The project's files agree with each other: one source of truth per fact."""

import os
import re
import subprocess
import tomllib

import pytest
from chalice_devstack.intrinsics import Scope, default_parameters, resolve

from tests.conftest import PROJECT


def test_requirements_txt_matches_the_runtime_dependencies() -> None:
    pyproject = tomllib.loads((PROJECT.root / "pyproject.toml").read_text())
    lines = (PROJECT.root / "requirements.txt").read_text().splitlines()
    requirements = [line for line in lines if line and not line.startswith("#")]
    assert requirements == pyproject["project"]["dependencies"]
    assert not any(line.startswith(("boto3", "botocore")) for line in requirements)


def test_make_help_prints_the_values_of_the_variables_it_names() -> None:
    # When: make help runs with VENV set to something of our own
    env = {**os.environ, "MAKEFLAGS": ""}
    result = subprocess.run(
        ["make", "help", "VENV=.venv-probe"], capture_output=True, text=True, cwd=PROJECT.root, env=env, check=True
    )
    # Then: the text shows that value, and no $(NAME) is left unexpanded
    assert "make install" in result.stdout and "Create .venv-probe with" in result.stdout
    assert re.findall(r"\$\([A-Z_]+\)", result.stdout) == []


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_table_names_in_chalice_config_match_resources_yaml(stage: str) -> None:
    template = PROJECT.resources()
    scope = Scope(default_parameters(template, stage, "us-east-1", PROJECT.name), {})
    table_name = resolve(template["Resources"]["ServiceTable"]["Properties"]["TableName"], scope)
    assert PROJECT.function_environment(stage)["SERVICE_TABLE"] == table_name


{%- if cookiecutter.include_uploads == 'y' %}


@pytest.mark.parametrize("stage", ["dev", "prod"])
@pytest.mark.parametrize(
    ("env_var", "logical_id", "name_property"),
    [("UPLOADS_BUCKET", "UploadsBucket", "BucketName"), ("UPLOADS_QUEUE", "UploadsQueue", "QueueName")],
)
def test_upload_resource_names_in_chalice_config_match_resources_yaml(
    stage: str, env_var: str, logical_id: str, name_property: str
) -> None:
    template = PROJECT.resources()
    scope = Scope(default_parameters(template, stage, "us-east-1", PROJECT.name), {})
    name = resolve(template["Resources"][logical_id]["Properties"][name_property], scope)
    assert PROJECT.function_environment(stage)[env_var] == name


def test_upload_queue_policy_names_the_uploads_bucket() -> None:
    template = PROJECT.resources()
    scope = Scope(
        default_parameters(template, "dev", "us-east-1", PROJECT.name), {"UploadsQueue": {"Arn": "queue-arn"}}
    )
    policy = resolve(template["Resources"]["UploadsQueuePolicy"]["Properties"]["PolicyDocument"], scope)
    bucket = PROJECT.function_environment("dev")["UPLOADS_BUCKET"]
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:s3:::{bucket}"
{%- endif %}


def test_resources_yaml_uses_long_form_intrinsics_only() -> None:
    text = (PROJECT.root / "infra" / "resources.yaml").read_text()
    assert "!Ref" not in text and "!GetAtt" not in text and "!Sub" not in text


NAME_PROPERTIES = ("TableName", "QueueName", "Name", "BucketName", "TopicName")


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_resource_name_in_chalice_config_names_a_resource_of_resources_yaml(stage: str) -> None:
    template = PROJECT.resources()
    scope = Scope(default_parameters(template, stage, "us-east-1", PROJECT.name), {})
    names = {
        resolve(resource["Properties"][key], scope)
        for resource in template["Resources"].values()
        if "Type" in resource and not resource["Type"].startswith("AWS::CloudWatch::")
        for key in NAME_PROPERTIES
        if key in resource.get("Properties", {})
    }
    env = PROJECT.function_environment(stage)
    prefix = f"{env['SERVICE_NAME']}-{stage}-"
    named_in_config = {value for value in env.values() if value.startswith(prefix)}
    assert named_in_config and named_in_config <= names
