"""The chalice-devstack release workflow (.github/workflows/release.yml) says what a safe release needs."""

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import REPO_ROOT

WORKFLOW_FILE = REPO_ROOT / ".github" / "workflows" / "release.yml"
WORKFLOW_TEXT = WORKFLOW_FILE.read_text()
WORKFLOW: dict[Any, Any] = yaml.safe_load(WORKFLOW_TEXT)
PACKAGE_DIR = REPO_ROOT / "packages" / "chalice-devstack"
VERSION = tomllib.loads((PACKAGE_DIR / "pyproject.toml").read_text())["project"]["version"]
PINNED_USES = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")
PUBLISH_ACTION = "pypa/gh-action-pypi-publish"


def steps(job: str) -> list[dict[str, Any]]:
    """The steps of one job."""
    found: list[dict[str, Any]] = WORKFLOW["jobs"][job]["steps"]
    return found


def runs(job: str) -> str:
    """Every `run:` script of one job, joined."""
    return "\n".join(step.get("run", "") for step in steps(job))


def step_named(job: str, prefix: str) -> dict[str, Any]:
    """The one step of a job whose name starts with prefix."""
    (found,) = [step for step in steps(job) if step.get("name", "").startswith(prefix)]
    return found


def step_named_uses(job: str, action: str) -> dict[str, Any]:
    """The one step of a job that uses an action (any pinned version)."""
    (found,) = [step for step in steps(job) if step.get("uses", "").startswith(f"{action}@")]
    return found


def version_check(tag: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Run the build job's version-check step as the runner would, for a pushed tag."""
    step = step_named("build", "Check the tag")
    env = {
        **os.environ,
        **WORKFLOW["env"],
        "TAG": tag,
        "GITHUB_ENV": str(tmp_path / "github_env"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    return subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_only_a_chalice_devstack_tag_triggers_it() -> None:
    """Given the workflow, then a pushed tag chalice-devstack-v* is its only trigger (YAML 1.1 reads `on` as True)."""
    trigger = WORKFLOW.get("on", WORKFLOW.get(True))
    assert trigger == {"push": {"tags": ["chalice-devstack-v*"]}}


def test_it_builds_the_package_and_checks_it_with_twine() -> None:
    """Given the build job, then it builds sdist + wheel of the package and runs twine check --strict on them."""
    assert REPO_ROOT / WORKFLOW["env"]["PACKAGE_DIR"] == PACKAGE_DIR and PACKAGE_DIR.is_dir()
    script = runs("build")
    assert 'python -m build "$PACKAGE_DIR" --outdir dist' in script
    assert "twine check --strict dist/*" in script
    assert re.search(r'"build==[\d.]+" "twine==[\d.]+"', script), "build and twine pinned to exact versions"


def test_the_version_check_passes_on_the_package_version(tmp_path: Path) -> None:
    """Given the tag of the package's version, when the version step runs, then it passes and exports it."""
    done = version_check(f"chalice-devstack-v{VERSION}", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "github_env").read_text() == f"version={VERSION}\n"


@pytest.mark.parametrize("tag", ["chalice-devstack-v99.0.0", f"v{VERSION}", f"chalice-devstack-v{VERSION}rc1"])
def test_the_version_check_refuses_any_other_tag(tag: str, tmp_path: Path) -> None:
    """Given a tag that is not chalice-devstack-v<version>, when the version step runs, then it fails naming both."""
    done = version_check(tag, tmp_path)
    assert done.returncode == 1
    assert f"::error::tag {tag}" in done.stdout and f"chalice-devstack-v{VERSION}" in done.stdout


def test_every_action_is_pinned_by_full_commit_sha_with_its_tag() -> None:
    """Given every `uses:`, then it names a 40-hex commit and its line says which tag that was."""
    uses = [step["uses"] for job in WORKFLOW["jobs"] for step in steps(job) if "uses" in step]
    assert uses and all(PINNED_USES.fullmatch(action) for action in uses), uses
    lines = [line for line in WORKFLOW_TEXT.splitlines() if line.strip().startswith("- uses:")]
    assert len(lines) == len(uses) and all(re.search(r" # v\d+(\.\d+)*$", line) for line in lines), lines


def test_only_the_publish_job_may_mint_an_oidc_token() -> None:
    """Given the permissions, then the workflow reads contents only and id-token: write is the publish job's alone."""
    assert WORKFLOW["permissions"] == {"contents": "read"}
    granted = {name: job.get("permissions") for name, job in WORKFLOW["jobs"].items() if job.get("permissions")}
    assert granted == {"publish": {"id-token": "write"}}


def test_publish_uses_trusted_publishing_after_build_and_tests() -> None:
    """Given the publish job, then it waits for build and test and uploads their artifact with no stored secret."""
    publish = WORKFLOW["jobs"]["publish"]
    assert set(publish["needs"]) == {"build", "test"} and publish["environment"]["name"] == "pypi"
    upload = step_named_uses("publish", PUBLISH_ACTION)
    assert set(upload.get("with", {})) <= {"packages-dir", "print-hash", "verbose"}
    assert "secrets." not in WORKFLOW_TEXT and "password" not in WORKFLOW_TEXT
    uploaded = step_named_uses("build", "actions/upload-artifact")["with"]["name"]
    assert step_named_uses("publish", "actions/download-artifact")["with"]["name"] == uploaded


def test_the_test_job_runs_the_package_suite() -> None:
    """Given the test job, then it installs the package with its test extra and runs pytest in its folder."""
    assert 'pip install -e "$PACKAGE_DIR[test]"' in runs("test")
    assert step_named("test", "Run its tests")["working-directory"] == "${{ env.PACKAGE_DIR }}"
    assert "python -m pytest" in runs("test")
