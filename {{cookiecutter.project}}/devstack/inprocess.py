"""AWS inside this process: moto's mock_aws with every resource of infra/resources.yaml (tests, benchmarks)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from chalice.app import Chalice
from moto import mock_aws

from devstack import moto_fixes
from devstack.project import app_functions, function_attributes, function_environment, offline_aws_environment
from devstack.provision import provision

REGION = "{{ cookiecutter.aws_region }}"


def use_mock_environment(stage: str = "dev", region: str = REGION) -> None:
    """Give this process the stage's function environment and fake credentials (call before importing app)."""
    # The functions' environment comes from .chalice/config.json, as on AWS.
    os.environ.update(function_environment(stage))
    os.environ.update(offline_aws_environment(region, "testing"))
    os.environ.update({"AWS_SESSION_TOKEN": "testing", "POWERTOOLS_METRICS_NAMESPACE": "tests"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    moto_fixes.apply()  # the same moto as devstack's endpoint runs


@contextmanager
def mocked_aws(app: Chalice, stage: str = "dev", region: str = REGION) -> Iterator[None]:
    """A fresh moto AWS holding every resource the app's functions use; all of it is gone on exit."""
    names = [function.name for function in app_functions(app)]
    functions = function_attributes(app.app_name, stage, region, names)
    with mock_aws():
        provision(lambda service: boto3.client(service, region_name=region), stage, region, functions=functions)
        yield
