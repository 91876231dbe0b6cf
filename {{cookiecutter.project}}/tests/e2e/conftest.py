"""End-to-end tests: flows through a devstack running in a child process on free ports.

The `devstack` fixture (chalice-devstack's pytest plugin) starts it once per session. Run these in a
pytest process of their own (`make e2e`): a `mock_aws` block elsewhere in the same process would not
touch the child's state, but keeping the suites apart keeps it obvious.
"""
{%- if cookiecutter.include_orders == 'y' and cookiecutter.include_auth == 'y' %}

import functools
{%- endif %}

import pytest
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_auth == 'y' %}
from chalice_devstack.testing import Devstack{% if cookiecutter.include_orders == 'y' and cookiecutter.include_auth == 'y' %}, cognito_token{% endif %}
{% endif %}
{%- if cookiecutter.include_auth == 'y' %}
from tests.auth_support import SignedInDevstack
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
from tests.orders_support import OrdersOnDevstack
{%- endif %}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run `slow` tests last: the backlog they leave (hundreds of stream records) would delay every test after them."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is not None)
{%- if cookiecutter.include_orders == 'y' %}


@pytest.fixture(scope="session")
def orders(devstack: Devstack) -> OrdersOnDevstack:
    """Given: a running devstack (seeded catalogue) driven over HTTP and its AWS endpoint."""
{%- if cookiecutter.include_auth == 'y' %}
    return OrdersOnDevstack(
        devstack.api_url, devstack.client, devstack.region, functools.partial(cognito_token, devstack)
    )
{%- else %}
    return OrdersOnDevstack(devstack.api_url, devstack.client, devstack.region)
{%- endif %}
{%- endif %}
{%- if cookiecutter.include_auth == 'y' %}


@pytest.fixture(scope="session")
def devstack(devstack: Devstack) -> SignedInDevstack:
    """Given: the running devstack, its API called with real tokens of its user pool (an admin's by default)."""
    return SignedInDevstack.of(devstack)
{%- endif %}
