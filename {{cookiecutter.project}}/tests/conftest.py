"""Test set-up: chalice-devstack's pytest plugin gives the `aws` fixture (moto in this process with every
resource of infra/resources.yaml) and the stage's environment; this adds the Chalice test client."""

from collections.abc import Iterator
from typing import Any

import pytest
from chalice_devstack.pytest_plugin import project_settings

PROJECT, SETTINGS = project_settings()
TEST_REGION = SETTINGS.region


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """Given: the Chalice app behind chalice.test.Client, on a fresh moto AWS."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client
