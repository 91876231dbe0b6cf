"""AWS inside this process: moto's mock_aws holding every resource of a project (tests, benchmarks)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from chalice.app import Chalice
from moto import mock_aws

from chalice_devstack import moto_fixes
from chalice_devstack.project import Project, app_functions, function_attributes, offline_aws_environment
from chalice_devstack.provision import provision


def use_mock_environment(project: Project, stage: str, region: str) -> None:
    """Give this process the stage's function environment and fake credentials (call before importing app)."""
    # The functions' environment comes from .chalice/config.json, as on AWS.
    os.environ.update(project.function_environment(stage))
    os.environ.update(offline_aws_environment(region, "testing"))
    os.environ.update({"AWS_SESSION_TOKEN": "testing", "POWERTOOLS_METRICS_NAMESPACE": "tests"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    moto_fixes.apply()  # the same moto as devstack's endpoint runs


@contextmanager
def mocked_aws(app: Chalice, project: Project, stage: str, region: str) -> Iterator[None]:
    """A fresh moto AWS holding every resource the app's functions use; all of it is gone on exit."""
    names = [function.name for function in app_functions(app)]
    functions = function_attributes(app.app_name, stage, region, names)
    with mock_aws():
        provision(
            lambda service: boto3.client(service, region_name=region), project, stage, region, functions=functions
        )
        yield
