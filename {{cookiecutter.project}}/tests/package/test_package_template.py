"""The packaged template deploys as designed: lint-clean, least privilege, stage-specific names."""

import json
from pathlib import Path
from typing import Any

import pytest
from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling.project_checks import describe
from chalice_devstack.tooling.run_checks import check


def assert_check_finds_nothing(project: Project, settings: Settings, templates: list[Path], lint: bool = True) -> None:
    """`devstack check` on the project and these templates reports nothing, informational cfn-lint findings included."""
    problems = check(project, settings, templates, package=False, lint=lint)
    assert problems == [], describe(problems)


def test_devstack_check_finds_nothing_in_the_project_or_its_stage_template(
    devstack_project: Project, devstack_settings: Settings, template_only: Path
) -> None:
    """Given the default stage's template packaged without dependencies, when `devstack check` runs its
    project checks and template walker, then it reports nothing at all.

    cfn-lint (12 s of CPU) is left to the slow test below and to `make lint`'s hook on infra/resources.yaml."""
    assert_check_finds_nothing(devstack_project, devstack_settings, [template_only], lint=False)


@pytest.mark.slow
def test_devstack_check_finds_nothing_in_the_project_or_either_packaged_stage(
    devstack_project: Project, devstack_settings: Settings, packaged: dict[str, Path]
) -> None:
    """Given both packaged stages, when `devstack check` runs (project checks, template walker, cfn-lint),
    then it reports nothing at all, informational cfn-lint findings included."""
    assert_check_finds_nothing(devstack_project, devstack_settings, [dist / "sam.json" for dist in packaged.values()])


@pytest.mark.slow
def test_the_template_without_dependencies_is_the_packaged_one(
    devstack_settings: Settings, packaged: dict[str, Path], template_only: Path
) -> None:
    """Given the stage packaged with and without its dependencies, then both templates are the same,
    so the offline check of `make test` checks what deploys."""
    assert template_only.read_text() == (packaged[devstack_settings.stage] / "sam.json").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_stage_parameter_defaults_to_the_packaged_stage(templates: dict[str, dict[str, Any]], stage: str) -> None:
    """Given a stage's template, then deploying it without parameters deploys that stage."""
    assert templates[stage]["Parameters"]["Stage"]["Default"] == stage


@pytest.mark.slow
def test_prod_template_names_nothing_after_dev(devstack_project: Project, templates: dict[str, dict[str, Any]]) -> None:
    """Given the prod template, then no dev resource name leaks into it and functions get prod's environment."""
    assert "-dev-" not in json.dumps(templates["prod"])
    prod_env = devstack_project.function_environment("prod")
    for resource in templates["prod"]["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            env = resource["Properties"]["Environment"]["Variables"]
            assert {key: env[key] for key in prod_env} == prod_env


def test_automatic_policies_are_off(devstack_project: Project) -> None:
    """Given .chalice/config.json, then every function's permissions come from its own policy file."""
    assert devstack_project.chalice_config()["autogen_policy"] is False
