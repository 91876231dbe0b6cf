"""`devstack check`'s project checks: what a function needs besides its code, in every stage, all listed at once.

Adding a function (a queue consumer, say) takes a policy file, its env vars in every stage and,
for a batch event source, its mapping settings in the resources file; these checks name each
missing piece with its fix instead of stopping at the first.
"""

import importlib
import sys
from typing import Any

from chalice_devstack.project import Project, logical_id
from chalice_devstack.tooling.checks import RUNTIME_ENV, Problem

CONFIG = ".chalice/config.json"
# chalice event source config class -> the suffix `chalice package` gives the function's SAM event.
BATCH_EVENT_SUFFIXES = {"SQSEventConfig": "SqsEventSource", "DynamoDBEventConfig": "DynamodbEventSource",
                        "KinesisEventConfig": "KinesisEventSource"}  # fmt: skip


def check_policy_files(project: Project, functions: list[str]) -> list[Problem]:
    """With autogen_policy off, every function names a policy file that exists, in every stage."""
    problems = []
    for stage in project.stages():
        for function in functions:
            if project.function_setting(stage, function, "autogen_policy", True) is not False:
                continue
            problems += policy_file_problems(project, stage, function)
    return problems


def policy_file_problems(project: Project, stage: str, function: str) -> list[Problem]:
    """One function's policy file in one stage: named, and present under .chalice/."""
    name = project.function_setting(stage, function, "iam_policy_file", None)
    where = f"{CONFIG} stage {stage}, function {function}"
    if name is None:
        fix = f'add "lambda_functions": {{"{function}": {{"iam_policy_file": "policies/{function}.json"}}}}'
        return [Problem(where, "no iam_policy_file (autogen_policy is off)", fix)]
    if not (project.chalice_config_file.parent / name).is_file():
        return [Problem(where, f"policy file .chalice/{name} does not exist", f"write .chalice/{name}")]
    return []


def check_stage_environments(project: Project, functions: list[str], required: set[str]) -> list[Problem]:
    """Every function gets, in every stage, each env var the code reads and each any other stage sets."""
    all_stages = project.stages()
    problems = []
    for function in functions:
        environments = {stage: project.function_environment(stage, function) for stage in all_stages}
        expected = (required | {name for env in environments.values() for name in env}) - RUNTIME_ENV
        for stage, env in environments.items():
            problems += [
                Problem(
                    f"{CONFIG} stage {stage}, function {function}",
                    f"environment lacks {name}",
                    f'set "{name}" in stages.{stage}.environment_variables',
                )
                for name in sorted(expected - env.keys())
            ]
    return problems


def check_mapping_settings(project: Project, app: Any) -> list[Problem]:
    """Every batch event source (SQS, DynamoDB, Kinesis) has its mapping settings in the resources file."""
    resources = project.resources().get("Resources", {})
    problems = []
    for source in app.event_sources:
        suffix = BATCH_EVENT_SUFFIXES.get(type(source).__name__)
        if suffix is None:
            continue
        function_id = logical_id(source.name)
        event = f"{function_id}{suffix}"
        events = resources.get(function_id, {}).get("Properties", {}).get("Events", {})
        responses = events.get(event, {}).get("Properties", {}).get("FunctionResponseTypes", [])
        if "ReportBatchItemFailures" not in responses:
            problems.append(mapping_problem(project, function_id, event))
    return problems


def mapping_problem(project: Project, function_id: str, event: str) -> Problem:
    """A missing mapping entry, with the resources-file snippet that adds it."""
    snippet = f"{function_id}: {{Type: AWS::Serverless::Function, Properties: {{Events: {{{event}: {{Properties: "
    snippet += "{FunctionResponseTypes: [ReportBatchItemFailures]}}}}}"
    return Problem(f"{project.relative(project.resources_file)} {function_id}", f"{event} lacks mapping settings",
                   f"add under Resources: {snippet}")  # fmt: skip


def setting_env_names(project: Project, spec: str) -> set[str]:
    """The env var names a pydantic settings class (`module:Class`, importable from the project) reads."""
    from pydantic import AliasChoices

    module, _, name = spec.partition(":")
    if str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))
    settings_class = getattr(importlib.import_module(module), name)
    prefix = settings_class.model_config.get("env_prefix", "")
    names = set()
    for field_name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        choices = alias.choices if isinstance(alias, AliasChoices) else [alias or f"{prefix}{field_name}"]
        names.add(str(choices[0]).upper())
    return names


def architecture(project: Project) -> str:
    """The functions' architecture, as .chalice/config.json sets it (chalice's default: x86_64)."""
    return str(project.chalice_config().get("lambda_architecture", "x86_64"))


def describe(problems: list[Problem]) -> str:
    """Every problem with its fix, one after another, and a count."""
    if not problems:
        return "devstack check: no problems"
    lines = [f"{problem}\n    fix: {problem.fix}" for problem in problems]
    return "\n".join([*lines, f"devstack check: {len(problems)} problem(s)"])
