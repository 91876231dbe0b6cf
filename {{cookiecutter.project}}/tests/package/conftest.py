"""Packaged stages, built once per test session by chalice-devstack's packager (PyPI is needed for the wheels)."""

import json
from pathlib import Path
from typing import Any

import pytest
from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling.package import build

STAGES = ["dev", "prod"]


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
