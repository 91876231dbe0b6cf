"""The package's tests: fake AWS credentials for the whole run, and small Chalice projects on disk."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalice_devstack.project import Project, offline_aws_environment
from chalice_devstack.testing import Devstack

TEST_REGION = "eu-west-1"  # not us-east-1, so a default that leaks through shows up
APPS_DIR = Path(__file__).parent / "apps"

os.environ.update(offline_aws_environment(TEST_REGION, "testing"))
for variable in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(variable, None)


def write_project(root: Path, app_name: str = "tiny", config: dict[str, object] | None = None) -> Project:
    """A minimal Chalice project folder (.chalice/config.json with a dev stage) at root."""
    (root / ".chalice").mkdir(parents=True, exist_ok=True)
    body = config or {"version": "2.0", "app_name": app_name, "stages": {"dev": {"api_gateway_stage": "api"}}}
    (root / ".chalice" / "config.json").write_text(json.dumps(body))
    return Project.at(root)


@pytest.fixture
def tiny_project(tmp_path: Path) -> Project:
    """Given: an empty Chalice project folder (config only)."""
    return write_project(tmp_path / "tiny")


def devstack_command(project: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `devstack ARGS` in the project folder."""
    command = [sys.executable, "-m", "chalice_devstack", *args]
    return subprocess.run(command, cwd=project, input=stdin, capture_output=True, text=True, timeout=60, check=False)


def port_flag(stack: Devstack) -> list[str]:
    """--aws-port for the devstack under test."""
    return ["--aws-port", stack.endpoint_url.rsplit(":", 1)[1]]
