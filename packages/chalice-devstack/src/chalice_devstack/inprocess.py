"""AWS inside this process: moto's mock_aws holding every resource of a project (tests, benchmarks)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from chalice.app import Chalice
from moto import mock_aws

from chalice_devstack import moto_fixes
from chalice_devstack.aws_reset import ProvisionedAws
from chalice_devstack.project import Project, app_functions, function_attributes, offline_aws_environment
from chalice_devstack.provision import provision, services_used


def use_mock_environment(project: Project, stage: str, region: str) -> None:
    """Give this process the stage's function environment and fake credentials (call before importing app)."""
    # The functions' environment comes from .chalice/config.json, as on AWS.
    os.environ.update(project.function_environment(stage))
    os.environ.update(offline_aws_environment(region, "testing"))
    os.environ.update({"AWS_SESSION_TOKEN": "testing", "POWERTOOLS_METRICS_NAMESPACE": "tests"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    os.environ.pop("AWS_PROFILE", None)
    moto_fixes.apply(services_used(project.resources()))  # the same moto as devstack's endpoint runs


class InProcessAws:
    """moto in this process holding every resource a project's functions use, provisioned once.

    `fresh()` puts it back to the just-provisioned state before each test: in place when it can
    (milliseconds, see aws_reset), else by provisioning afresh (about half a second).
    """

    def __init__(self, app: Chalice, project: Project, stage: str, region: str) -> None:
        names = [function.name for function in app_functions(app)]
        self.functions = function_attributes(app.app_name, stage, region, names)
        self.project, self.stage, self.region = project, stage, region
        self.services = services_used(project.resources())
        self._mock: Any = None
        self._state: ProvisionedAws | None = None

    def start(self) -> None:
        """Start moto and provision the project's resources."""
        moto_fixes.apply(self.services)
        self._mock = mock_aws()
        self._mock.start()
        provision(self._client, self.project, self.stage, self.region, functions=self.functions)
        self._state = ProvisionedAws.snapshot(self.services)

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=self.region)

    def fresh(self) -> None:
        """The just-provisioned state: what earlier tests wrote is gone."""
        assert self._state is not None, "start() first"
        if not self._state.reset():
            self.stop()
            self.start()

    def stop(self) -> None:
        """Stop moto: every backend is reset."""
        if self._mock is not None:
            self._mock.stop()
            self._mock = None


@contextmanager
def mocked_aws(app: Chalice, project: Project, stage: str, region: str) -> Iterator[None]:
    """A fresh moto AWS holding every resource the app's functions use; all of it is gone on exit."""
    aws = InProcessAws(app, project, stage, region)
    aws.start()
    try:
        yield
    finally:
        aws.stop()
