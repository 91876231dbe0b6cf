"""Packaged stages for the package checks.

`packaged`: every stage as `make package` builds it, dependencies included (PyPI is needed for the wheels),
once per test session; the tests that use it are `slow` (`make check-package`, `make test-all`, CI).
`template_only`: the default stage's template alone, packaged offline in seconds (`make test`).
"""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling.package import build

STAGES = ["dev", "prod"]
# What `chalice package` reads besides requirements.txt and the resources file.
PACKAGED_PATHS = ["app.py", "chalicelib", "vendor", ".chalice/config.json", ".chalice/policies"]


@pytest.fixture(scope="session")
def packaged(
    devstack_project: Project, devstack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """Given: dist/ folders for every stage, as `make package STAGE=<stage>` writes them."""
    return {
        stage: build(devstack_project, stage, devstack_settings.region, tmp_path_factory.mktemp(f"dist-{stage}")).parent
        for stage in STAGES
    }


@pytest.fixture(scope="session")
def templates(packaged: dict[str, Path]) -> dict[str, dict[str, Any]]:
    """Given: the packaged template of every stage, parsed."""
    return {stage: json.loads((dist / "sam.json").read_text()) for stage, dist in packaged.items()}


def copy_without_requirements(project: Project, into: Path) -> Project:
    """The project's packaged files copied into a folder with no requirements.txt (and no .chalice/deployments)."""
    resources = project.resources_file.relative_to(project.root)
    for name in [*PACKAGED_PATHS, str(resources)]:
        source, target = project.root / name, into / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, target)
    return Project.at(into, resources)


@pytest.fixture(scope="session")
def template_only(
    devstack_project: Project, devstack_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Given: the default stage's sam.json, packaged from a copy of the project without requirements.txt.

    Chalice downloads dependencies for requirements.txt only, and the template does not depend on them:
    this is the template `make package` writes, offline and in seconds (the zip holds the app alone).
    """
    copy = copy_without_requirements(devstack_project, tmp_path_factory.mktemp("no-dependencies"))
    return build(copy, devstack_settings.stage, devstack_settings.region, tmp_path_factory.mktemp("dist-template"))
