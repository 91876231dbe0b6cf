"""pytest plugin (entry point `chalice_devstack`): the `aws` and `devstack` fixtures for a Chalice project.

Active only when pytest's rootdir is a Chalice project (it holds .chalice/config.json); elsewhere it
does nothing. When active, it gives the test process the stage's function environment and fake AWS
credentials before any test module imports `app`, and puts the project root on sys.path.

- `aws`: an in-process moto holding every resource of the project's resources file, as just provisioned:
  provisioned once per session, and before each test what earlier tests wrote is cleared (aws_reset.py;
  a test that adds or removes a resource gets the next one a fresh provisioning).
- `devstack`: `devstack up` in a child process on free ports, started once per session
  (moto's state is process-global, so the devstack under test never shares this process). Its
  functions run in that process (`--single`) unless DEVSTACK_SINGLE=0 asks for execution
  environments: a suite pays a cold start per environment, several times its run time.
- `devstack_project`, `devstack_settings`: the project and its [tool.devstack] settings.
"""

import gc
import importlib
import os
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from chalice_devstack.project import CHALICE_CONFIG, Project
from chalice_devstack.settings import Settings, load_settings

_ROOT: list[Path] = []


@cache
def project_settings(root: Path | None = None) -> tuple[Project, Settings]:
    """The project pytest runs in (or at `root`) and its settings."""
    root = root or (_ROOT[0] if _ROOT else Project.discover().root)
    settings = load_settings(root)
    return Project.at(root, settings.resources), settings


def pytest_configure(config: pytest.Config) -> None:
    """Prepare the process for the project's tests when the rootdir is a Chalice project."""
    root = Path(config.rootpath)
    if not (root / CHALICE_CONFIG).is_file():
        return
    from chalice_devstack.inprocess import use_mock_environment

    _ROOT.append(root.resolve())
    project, settings = project_settings()
    if str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))
    use_mock_environment(project, settings.stage, settings.region)


# Young-generation collections every 50,000 allocations instead of 700: moto and botocore allocate
# heavily, and with the default the collector takes a sixth of a project's unit-test CPU time.
GC_THRESHOLDS = (50_000, 50, 100)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Keep the collector off what collection imported (modules, service models): it lives all session."""
    if _ROOT:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def _require_project() -> tuple[Project, Settings]:
    if not _ROOT:
        pytest.skip(f"not a Chalice project: pytest's rootdir has no {CHALICE_CONFIG}")
    return project_settings()


@pytest.fixture(scope="session")
def devstack_project() -> Project:
    """The Chalice project under test."""
    return _require_project()[0]


@pytest.fixture(scope="session")
def devstack_settings() -> Settings:
    """Its devstack settings ([tool.devstack] < DEVSTACK_* env vars)."""
    return _require_project()[1]


@pytest.fixture(scope="session")
def devstack_inprocess_aws(devstack_project: Project, devstack_settings: Settings) -> Iterator[Any]:
    """moto in this process, provisioned once per session (the `aws` fixture puts it back before each test)."""
    from chalice_devstack.inprocess import InProcessAws

    app = importlib.import_module("app").app
    shared = InProcessAws(app, devstack_project, devstack_settings.stage, devstack_settings.region)
    shared.start()
    yield shared
    shared.stop()


@pytest.fixture
def aws(devstack_inprocess_aws: Any) -> None:
    """Given: moto in this process with every resource of the project's resources file, holding no test's data."""
    devstack_inprocess_aws.fresh()


def session_single() -> bool | None:
    """Whether the session's devstack runs its functions in its own process: yes unless DEVSTACK_SINGLE says."""
    # A test session starts a function's environment again and again (cold starts: the app imported
    # per environment); in one process a suite runs several times faster on a laptop. DEVSTACK_SINGLE=0
    # runs the suite with execution environments, as `devstack up` does.
    return None if "DEVSTACK_SINGLE" in os.environ else True


@pytest.fixture(scope="session")
def devstack(devstack_project: Project, devstack_settings: Settings) -> Iterator[Any]:
    """Given: the project's devstack (AWS endpoint, event sources, API) in a child process on free ports."""
    from chalice_devstack.testing import running_devstack

    with running_devstack(
        devstack_project, devstack_settings.stage, devstack_settings.region, single=session_single()
    ) as stack:
        yield stack
