"""The packaged template deploys as designed: lint-clean, least privilege, stage-specific names."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devstack.project import CHALICE_CONFIG_FILE, function_environment
from scripts.template_checks import run_all, setting_env_names

ARCHITECTURE = json.loads(CHALICE_CONFIG_FILE.read_text())["lambda_architecture"]


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_cfn_lint_reports_no_errors_or_warnings(packaged: dict[str, Path], stage: str) -> None:
    # When: cfn-lint (with the SAM transform) checks the packaged template
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(cfn_lint), str(packaged[stage] / "sam.json")], capture_output=True, text=True)
    # Then: it reports nothing at all (informational findings included)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_template_walker_finds_no_problems(templates: dict[str, dict[str, Any]], stage: str) -> None:
    # When: the walker checks batch failures, DLQs, policies, substitutions, environments...
    problems = run_all(templates[stage], ARCHITECTURE, setting_env_names())
    # Then: there are none
    assert problems == []


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_parameter_defaults_to_the_packaged_stage(templates: dict[str, dict[str, Any]], stage: str) -> None:
    assert templates[stage]["Parameters"]["Stage"]["Default"] == stage


def test_prod_template_names_nothing_after_dev(templates: dict[str, dict[str, Any]]) -> None:
    # Given: the prod template
    text = json.dumps(templates["prod"])
    # Then: no dev resource name leaks into it, and functions get prod's environment
    assert "-dev-" not in text
    for resource in templates["prod"]["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            env = resource["Properties"]["Environment"]["Variables"]
            assert {key: env[key] for key in function_environment("prod")} == function_environment("prod")


def test_every_function_has_its_own_policy_file() -> None:
    # Given: the chalice functions of the app and the per-function config
    from scripts.package import app_function_names

    config = json.loads(CHALICE_CONFIG_FILE.read_text())
    # Then: each names a policy file that exists, and automatic policies are off
    assert config["autogen_policy"] is False
    for name in app_function_names("dev").values():
        policy_file = config["lambda_functions"][name]["iam_policy_file"]
        assert (CHALICE_CONFIG_FILE.parent / policy_file).is_file(), name
