"""Test set-up: the dev stage's environment, moto-backed AWS and a Chalice test client."""

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devstack import moto_fixes
from devstack.project import function_attributes, function_environment
from devstack.provision import provision

TEST_REGION = "{{ cookiecutter.aws_region }}"

# The functions' environment comes from .chalice/config.json, as on AWS; credentials
# are fake so nothing can ever reach a real account.
os.environ.update(function_environment("dev"))
os.environ.update(
    {
        "AWS_DEFAULT_REGION": TEST_REGION,
        "AWS_REGION": TEST_REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_METRICS_NAMESPACE": "tests",
        # botocore >= 1.38 sends DynamoDB Streams calls to <account>.streams-ddb.<region>, a host
        # mock_aws does not route; the regional endpoint is the same API.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
moto_fixes.apply()  # the same moto as devstack's endpoint runs
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture
def aws() -> Iterator[None]:
    """Given: a fresh moto AWS with every resource of infra/resources.yaml."""
    from app import app

    names = [function.name for function in app.pure_lambda_functions] + [source.name for source in app.event_sources]
    functions = function_attributes(app.app_name, "dev", TEST_REGION, names)
    with mock_aws():
        provision(
            lambda service: boto3.client(service, region_name=TEST_REGION), region=TEST_REGION, functions=functions
        )
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """Given: the Chalice app behind chalice.test.Client, on a fresh moto AWS."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client
