"""The tooling on a real Chalice project (tests/apps/catalog): check, package, cold start, profile.

Each command runs as `devstack ...` in a child process, as a user runs it: every process
imports its own `app` module, so the tests never see another project's app.
"""

import json
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import APPS_DIR

CATALOG = APPS_DIR / "catalog"
FUNCTIONS = {"api_handler", "import_items", "count_items", "nightly"}


def devstack(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run `devstack ARGS` in the project folder; its exit code is the caller's to judge."""
    command = [sys.executable, "-m", "chalice_devstack", *args]
    return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """Given: a copy of the catalog project (packaging writes under .chalice/)."""
    return Path(shutil.copytree(CATALOG, tmp_path / "catalog"))


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    """Apply a change to a JSON file in place."""
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.slow  # the fast path keeps a one-stage package and the check without packaging (below)
def test_a_complete_project_packages_and_checks_clean_in_every_stage(catalog: Path) -> None:
    """Given the catalog, when checked with both stages packaged and cfn-lint on, then nothing is reported."""
    result = devstack(catalog, "check", "--package")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("devstack check: no problems")


def test_every_missing_piece_of_a_new_consumer_is_listed_at_once_with_its_fix(catalog: Path) -> None:
    """Given a consumer lacking a policy file, a prod env var and mapping settings, then one run names all three."""
    (catalog / ".chalice" / "policies" / "import_items.json").unlink()
    edit_json(catalog / ".chalice" / "config.json", lambda c: c["stages"]["prod"]["environment_variables"].clear())
    resources = yaml.safe_load((catalog / "infra" / "resources.yaml").read_text())
    del resources["Resources"]["ImportItems"]
    (catalog / "infra" / "resources.yaml").write_text(yaml.safe_dump(resources))
    result = devstack(catalog, "check")
    assert result.returncode == 1
    assert (
        "stage dev, function import_items: policy file .chalice/policies/import_items.json does not exist"
        in result.stdout
    )
    assert "    fix: write .chalice/policies/import_items.json" in result.stdout
    assert "stage prod, function import_items: environment lacks ITEMS_TABLE" in result.stdout
    assert 'fix: set "ITEMS_TABLE" in stages.prod.environment_variables' in result.stdout
    assert "ImportItemsSqsEventSource lacks mapping settings" in result.stdout
    assert "FunctionResponseTypes: [ReportBatchItemFailures]" in result.stdout


def test_package_names_functions_by_stage_and_ships_bytecode(catalog: Path, tmp_path: Path) -> None:
    """Given the catalog, when packaged for prod, then functions have their deployed names and the zip has bytecode."""
    result = devstack(catalog, "package", "--stage", "prod", "--out", str(tmp_path / "dist"))
    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "dist" / "sam.json").read_text())
    names = {
        resource["Properties"]["FunctionName"]["Fn::Sub"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }
    assert names == {f"catalog-${{Stage}}-{name}" for name in FUNCTIONS}
    assert template["Parameters"]["Stage"]["Default"] == "prod"
    entries = zipfile.ZipFile(tmp_path / "dist" / "deployment.zip").namelist()
    assert "app.py" in entries and any(entry.startswith("__pycache__/app.") for entry in entries)


@pytest.mark.slow  # a benchmark's command end to end: make ci
def test_cold_start_times_every_function_against_the_floor(catalog: Path) -> None:
    """Given the catalog, when its cold starts are measured, then every function has a time beside the floor."""
    result = devstack(catalog, "bench", "cold-start", "--runs", "1", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures["functions_s"]) == FUNCTIONS
    assert figures["floor_s"] > 0 and all(seconds > 0 for seconds in figures["functions_s"].values())


@pytest.mark.slow  # the fast path keeps test_tooling_profile's grouping
def test_profile_splits_a_request_into_groups_that_add_up(catalog: Path) -> None:
    """Given a write route, when profiled, then every group has a share, the shares sum to 1 and the project shows."""
    body = '{"id": "{uuid}", "name": "lamp"}'
    args = ["profile", "--method", "POST", "--path", "/items", "--body", body, "--requests", "5", "--json"]
    result = devstack(catalog, *args)
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    shares = {name: row["share"] for name, row in figures["groups"].items()}
    assert sum(shares.values()) == pytest.approx(1, abs=0.01)
    assert shares["moto"] > 0 and figures["requests"] == 5
