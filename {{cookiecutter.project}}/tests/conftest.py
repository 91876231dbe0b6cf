"""Test set-up: the dev stage's environment, moto-backed AWS and a Chalice test client."""

from collections.abc import Iterator
from typing import Any

import pytest

from devstack.inprocess import REGION, mocked_aws, use_mock_environment

TEST_REGION = REGION

use_mock_environment()


@pytest.fixture
def aws() -> Iterator[None]:
    """Given: a fresh moto AWS with every resource of infra/resources.yaml."""
    from app import app

    with mocked_aws(app):
        yield


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """Given: the Chalice app behind chalice.test.Client, on a fresh moto AWS."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
        yield test_client
