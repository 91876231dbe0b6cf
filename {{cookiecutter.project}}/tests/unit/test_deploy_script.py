"""scripts/deploy.sh runs exactly these AWS CLI (or SAM CLI) commands; a stub on PATH records them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT as SERVICE

SCRIPT = SERVICE.root / "scripts" / "deploy.sh"
PROJECT = "{{ cookiecutter.project }}"
# FAIL_ON: a command that fails. STS_ANSWER / STS_EXIT: what `aws sts get-caller-identity` prints and
# exits with (an account id by default).
STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
if [[ -n "${FAIL_ON:-}" && "$*" == "$FAIL_ON"* ]]; then echo "failed: $FAIL_ON" >&2; exit 254; fi
case "$*" in
  "sts get-caller-identity"*) echo "${STS_ANSWER-111122223333}"; exit "${STS_EXIT:-0}" ;;
  "s3api head-bucket"*) exit 1 ;;
  "cloudformation describe-stacks"*) echo https://abc.execute-api.eu-west-1.amazonaws.com/api/ ;;
  "list stack-outputs"*) echo '[{"OutputKey": "EndpointURL", "OutputValue": "https://sam.example/api/"}]' ;;
esac
"""


def _run(tmp_path: Path, clis: list[str], *args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run deploy.sh in tmp_path (with a packaged dist/) with only the given stub CLIs (plus bash) on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for cli in clis:
        (bin_dir / cli).write_text(STUB)
        (bin_dir / cli).chmod(0o755)
    tools = {"bash": shutil.which("bash"), "basename": shutil.which("basename"), "python3": sys.executable}
    for tool, found in tools.items():
        if found and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    (tmp_path / "dist").mkdir(exist_ok=True)
    (tmp_path / "dist" / "sam.json").write_text("{}")
    calls = tmp_path / "calls"
    environment = {"PATH": str(bin_dir), "CALLS": str(calls), "AWS_REGION": "eu-west-1", **env}
    result = subprocess.run(
        [str(bin_dir / "bash"), str(SCRIPT), *args], capture_output=True, text=True, env=environment, cwd=tmp_path
    )
    return result, calls.read_text().splitlines() if calls.exists() else []


def test_deploy_packages_deploys_and_prints_the_api_url(tmp_path: Path) -> None:
    # When: deploying prod with the AWS CLI available
    result, calls = _run(tmp_path, ["aws"], "deploy", "prod", "dist")
    # Then: exactly these commands ran, and the API URL from the stack outputs is printed
    bucket = f"{PROJECT}-artifacts-111122223333-eu-west-1"
    stack = f"{PROJECT}-prod"
    assert result.returncode == 0, result.stderr
    assert calls == [
        "aws sts get-caller-identity --query Account --output text --region eu-west-1",
        f"aws s3api head-bucket --bucket {bucket} --region eu-west-1",
        f"aws s3 mb s3://{bucket} --region eu-west-1",
        f"aws cloudformation package --template-file dist/sam.json --s3-bucket {bucket} --s3-prefix {stack}"
        " --output-template-file dist/packaged.yaml --region eu-west-1",
        f"aws cloudformation deploy --template-file dist/packaged.yaml --stack-name {stack}"
        " --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides Stage=prod"
        f" --s3-bucket {bucket} --s3-prefix {stack} --no-fail-on-empty-changeset --region eu-west-1",
        f"aws cloudformation describe-stacks --stack-name {stack} --region eu-west-1"
        " --query Stacks[0].Outputs[?OutputKey=='EndpointURL'].OutputValue --output text",
    ]
    assert "API URL: https://abc.execute-api.eu-west-1.amazonaws.com/api/" in result.stdout


def test_deploy_falls_back_to_sam_without_the_aws_cli(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, ["sam"], "deploy", "dev", "dist")
    stack = f"{PROJECT}-dev"
    assert result.returncode == 0, result.stderr
    assert calls == [
        f"sam deploy --template-file dist/sam.json --stack-name {stack} --resolve-s3 --s3-prefix {stack}"
        " --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --parameter-overrides Stage=dev"
        " --no-fail-on-empty-changeset --region eu-west-1",
        f"sam list stack-outputs --stack-name {stack} --output json --region eu-west-1",
    ]
    assert "API URL: https://sam.example/api/" in result.stdout


def test_destroy_deletes_the_stage_stack_and_waits(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, ["aws"], "destroy", "dev")
    stack = f"{PROJECT}-dev"
    assert result.returncode == 0, result.stderr
    assert calls == [
        "aws sts get-caller-identity --query Account --output text --region eu-west-1",
        f"aws cloudformation delete-stack --stack-name {stack} --region eu-west-1",
        f"aws cloudformation wait stack-delete-complete --stack-name {stack} --region eu-west-1",
    ]


@pytest.mark.parametrize("confirm", [{}, {"CONFIRM": "dev"}])
def test_destroying_prod_needs_confirmation(tmp_path: Path, confirm: dict[str, str]) -> None:
    result, calls = _run(tmp_path, ["aws"], "destroy", "prod", **confirm)
    assert result.returncode == 1 and calls == []
    assert "CONFIRM=prod" in result.stderr


def stopped(result: subprocess.CompletedProcess[str]) -> str:
    """Then: the script exited 1 with one line on stderr; that line."""
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.splitlines()
    return line


def test_no_cli_stops_first(tmp_path: Path) -> None:
    # When: deploying with neither the AWS CLI nor the SAM CLI on PATH
    result, calls = _run(tmp_path, [], "deploy", "dev", "dist")
    # Then: one line names both, before anything else is checked
    assert stopped(result).startswith("deploy.sh: neither the AWS CLI (aws) nor the SAM CLI (sam) is on PATH")
    assert calls == []


@pytest.mark.parametrize("region", ["mars", "EU-WEST-1", "eu_west_1"])
def test_a_region_that_is_no_region_name_stops_before_aws_is_asked(tmp_path: Path, region: str) -> None:
    result, calls = _run(tmp_path, ["aws"], "deploy", "dev", "dist", AWS_REGION=region)
    fix = "set AWS_REGION (e.g. AWS_REGION={{ cookiecutter.aws_region }})"
    assert stopped(result) == f"deploy.sh: '{region}' is not an AWS region name: {fix}"
    assert calls == []


def test_the_generated_region_is_the_default(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, ["aws"], "deploy", "dev", "dist", AWS_REGION="")
    assert result.returncode == 0, result.stderr
    assert calls[0].endswith("--region {{ cookiecutter.aws_region }}")


def test_a_missing_package_stops_naming_make_package(tmp_path: Path) -> None:
    result, calls = _run(tmp_path, ["aws"], "deploy", "qa", "elsewhere")
    assert stopped(result) == "deploy.sh: no elsewhere/sam.json: build it first with make package STAGE=qa"
    assert calls == []


@pytest.mark.parametrize("action", [("deploy", "dev", "dist"), ("destroy", "dev")], ids=["deploy", "destroy"])
def test_credentials_aws_refuses_stop_after_the_one_identity_call(tmp_path: Path, action: tuple[str, ...]) -> None:
    # Given: the AWS CLI finds no credentials
    reason = 'Unable to locate credentials. You can configure credentials by running "aws configure".'
    result, calls = _run(tmp_path, ["aws"], *action, STS_ANSWER=f"\n{reason}", STS_EXIT="255")
    # Then: one line with the CLI's reason and the fix; nothing else ran
    assert stopped(result) == (
        f"deploy.sh: AWS does not accept the credentials ({reason}): run aws configure, or set AWS_PROFILE"
    )
    assert calls == ["aws sts get-caller-identity --query Account --output text --region eu-west-1"]


def test_no_account_id_stops_before_a_bucket_is_named(tmp_path: Path) -> None:
    # Given: the identity call succeeds but prints no account id
    result, calls = _run(tmp_path, ["aws"], "deploy", "dev", "dist", STS_ANSWER="")
    # Then: it stops; no bucket named "<project>-artifacts--<region>" is asked for
    assert stopped(result) == "deploy.sh: AWS gave no account id for these credentials (got ''): check AWS_PROFILE"
    assert len(calls) == 1 and not any("artifacts--" in call for call in calls)


def test_a_failing_step_stops_the_deploy(tmp_path: Path) -> None:
    # Given: cloudformation package fails (a command inside the deploy function)
    result, calls = _run(tmp_path, ["aws"], "deploy", "dev", "dist", FAIL_ON="cloudformation package")
    # Then: nothing after it runs and the exit is non-zero
    assert result.returncode != 0
    assert calls[-1].startswith("aws cloudformation package") and "API URL" not in result.stdout


def test_make_deploy_and_destroy_call_the_script_with_the_stage() -> None:
    # When: make prints (without running) what deploy and destroy would do
    env = {**os.environ, "MAKEFLAGS": ""}
    deploy = subprocess.run(
        ["make", "-n", "deploy", "STAGE=prod"], capture_output=True, text=True, cwd=SERVICE.root, env=env
    )
    destroy = subprocess.run(
        ["make", "-n", "destroy", "STAGE=prod"], capture_output=True, text=True, cwd=SERVICE.root, env=env
    )
    # Then: package runs first for that stage, then the script
    assert "devstack package --stage prod --out dist" in deploy.stdout
    assert deploy.stdout.index("devstack package") < deploy.stdout.index("scripts/deploy.sh deploy prod dist")
    assert "scripts/deploy.sh destroy prod" in destroy.stdout
