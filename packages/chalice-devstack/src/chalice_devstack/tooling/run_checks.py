"""`devstack check`: the project checks, then every packaged template's walker and cfn-lint findings, in one list."""

import json
import tempfile
from pathlib import Path

from chalice_devstack.project import Project
from chalice_devstack.settings import Settings
from chalice_devstack.tooling import project_checks
from chalice_devstack.tooling.app_loader import function_handlers, load_app
from chalice_devstack.tooling.cfn_lint import cfn_lint_problems
from chalice_devstack.tooling.checks import Problem, run_all


def check(project: Project, settings: Settings, templates: list[Path], package: bool, lint: bool) -> list[Problem]:
    """Every problem of the project and of its packaged templates (packaging each stage first when asked)."""
    app = load_app(project, settings.stage)
    functions = list(function_handlers(app))
    required = project_checks.setting_env_names(project, settings.settings_class) if settings.settings_class else set()
    problems = project_checks.check_policy_files(project, functions)
    problems += project_checks.check_stage_environments(project, functions, required)
    problems += project_checks.check_mapping_settings(project, app)
    if not package:
        return problems + template_problems(project, templates, required, lint)
    with tempfile.TemporaryDirectory() as scratch:
        return problems + template_problems(project, packaged(project, settings, Path(scratch)), required, lint)


def packaged(project: Project, settings: Settings, scratch: Path) -> list[Path]:
    """Package every stage into scratch; the templates written."""
    from chalice_devstack.tooling.package import build

    return [build(project, stage, settings.region, scratch / stage) for stage in project.stages()]


def template_problems(project: Project, templates: list[Path], required: set[str], lint: bool) -> list[Problem]:
    """The walker's (and cfn-lint's) problems in each template."""
    problems = []
    for path in templates:
        found = run_all(json.loads(path.read_text()), project_checks.architecture(project), required)
        label = f"{path.parent.name}/{path.name}"  # the stage folder tells two packaged stages apart
        problems += [Problem(f"{label} {problem.where}", problem.what, problem.fix) for problem in found]
        problems += cfn_lint_problems(path) if lint else []
    return problems
