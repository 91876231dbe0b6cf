"""Test set-up: chalice-devstack's pytest plugin gives the `aws` fixture (moto in this process with every
resource of infra/resources.yaml) and the stage's environment; this adds the Chalice test client{% if cookiecutter.include_auth == 'y' %}
(signed in as an admin unless a request carries its own token){% endif %}."""

from collections.abc import Iterator
from typing import Any

import pytest
from chalice_devstack.pytest_plugin import project_settings
{%- if cookiecutter.include_auth == 'y' %}

from tests.auth_support import admin_by_default
{%- endif %}

PROJECT, SETTINGS = project_settings()
TEST_REGION = SETTINGS.region


@pytest.fixture
def client(aws: None) -> Iterator[Any]:
    """Given: the Chalice app behind chalice.test.Client, on a fresh moto AWS."""
    from chalice.test import Client

    from app import app

    with Client(app) as test_client:
{%- if cookiecutter.include_auth == 'y' %}
        admin_by_default(test_client)
{%- endif %}
        yield test_client
