"""End-to-end tests: flows through a devstack running in a child process on free ports.

Run them in a pytest process of their own (`make e2e`): a `mock_aws` block elsewhere in the
same process would not touch the child's state, but keeping the suites apart keeps it obvious.
"""

import importlib.util
from collections.abc import Iterator

import pytest

from devstack.testing import Devstack, running_devstack
from tests.conftest import TEST_REGION


@pytest.fixture(scope="session")
def devstack() -> Iterator[Devstack]:
    """Given: the service's devstack (AWS endpoint, pollers, API) started once for the session."""
    if importlib.util.find_spec("devstack.__main__") is None:
        pytest.skip("devstack has no command line yet (devstack/__main__.py)")
    with running_devstack(region=TEST_REGION) as stack:
        yield stack
