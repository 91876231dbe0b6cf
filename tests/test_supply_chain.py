"""A reproducible, updatable service: locked dependencies, pinned actions, Dependabot, pre-commit, .cruft.json.

The generated files are read as a reviewer would (cookiecutter-django style: each test names what a file must say),
and the locks and `cruft update` are run for real, offline.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Renderer
from tests.support import REPO_ROOT, combos, render, run, subprocess_env

SERVICE_TEMPLATE = REPO_ROOT / "{{cookiecutter.project}}"
# A `uses:` line: the action, a full commit SHA, and the tag it was as a trailing comment.
PINNED_USE = re.compile(
    r"^\s*(?:- )?uses: (?P<action>[\w.-]+/[\w.-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+(?:\.\d+)*)$"
)
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Template Test",
    "GIT_AUTHOR_EMAIL": "template-test@example.com",
    "GIT_COMMITTER_NAME": "Template Test",
    "GIT_COMMITTER_EMAIL": "template-test@example.com",
}


def uv(*args: str, cwd: Path) -> str:
    """The template venv's uv (a dev dependency), offline; its stdout."""
    return run([str(Path(sys.executable).with_name("uv")), *args, "--offline", "--quiet"], cwd=cwd).stdout


def git(cwd: Path, *args: str) -> str:
    """A git command with a fixed identity (commits need one); its stdout, stripped."""
    env = subprocess_env(**GIT_IDENTITY)
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout.strip()


def uses_lines(workflow: Path) -> list[str]:
    """Every `uses:` line of a workflow file."""
    return [line for line in workflow.read_text().splitlines() if line.strip().startswith(("uses:", "- uses:"))]


def yaml_file(path: Path) -> Any:
    """A YAML file, parsed."""
    return yaml.safe_load(path.read_text())


# --- Locks ---------------------------------------------------------------------------------------------------------


def test_template_lock_is_current_and_its_exports_match_it() -> None:
    """Given the template repo, then uv.lock matches pyproject.toml and each pip export is the lock exported now."""
    uv("lock", "--check", cwd=REPO_ROOT)
    for name, extras in {"requirements-dev.txt": ["dev"], "requirements-baseline.txt": ["dev", "baseline"]}.items():
        flags = [flag for extra in extras for flag in ("--extra", extra)]
        exported = uv("export", "--frozen", "--no-annotate", "--no-emit-project", *flags, cwd=REPO_ROOT)
        assert (REPO_ROOT / name).read_text().split("\n", 2)[2] == exported.split("\n", 2)[2], name


@pytest.mark.parametrize("combo", list(combos()))
def test_every_combination_renders_a_current_lock(rendered: Renderer, combo: str) -> None:
    """Given any supported combination, then its uv.lock names the project and `uv lock --check` passes offline."""
    project = rendered(combo)
    assert f'\nname = "{project.name}"\nversion = "0.1.0"\nsource = {{ editable = "." }}\n' in (
        project / "uv.lock"
    ).read_text()
    uv("lock", "--check", cwd=project)


def test_a_renamed_service_keeps_a_current_lock(template_dir: Path, tmp_path: Path) -> None:
    """Given a project slug that sorts elsewhere among the locked packages, then the lock still checks."""
    project = render(template_dir, tmp_path, project_name="Zebra Billing")
    uv("lock", "--check", cwd=project)


def test_service_dependencies_do_not_vary_by_option() -> None:
    """Given the service's pyproject.toml, then no Jinja touches its dependency lists: one lock fits every render."""
    text = (SERVICE_TEMPLATE / "pyproject.toml").read_text()
    dependencies = text[text.index("dependencies = [") : text.index("# chalice-devstack's settings")]
    assert "{%" not in dependencies and "{{" not in dependencies


def test_every_dependency_range_has_an_upper_bound() -> None:
    """Given the template's and the service's pyproject.toml, then every requirement caps its version."""
    requirement = re.compile(r'^\s*"([A-Za-z0-9_.\[\],-]+[<>=!~][^"]*)",', re.MULTILINE)
    for pyproject in (REPO_ROOT / "pyproject.toml", SERVICE_TEMPLATE / "pyproject.toml"):
        specs = requirement.findall(pyproject.read_text())
        assert specs and [spec for spec in specs if "<" not in spec] == [], pyproject


def test_service_installs_take_the_lock() -> None:
    """Given the service Makefile, then uv syncs the lock (--locked) and pip installs the hash-pinned export."""
    makefile = (SERVICE_TEMPLATE / "Makefile").read_text()
    assert "uv sync -q --locked" in makefile
    assert "pip install -q --require-hashes -r requirements-dev.txt" in makefile
    assert "pip install -q -c $(VENV)/constraints-dev.txt $(DEVSTACK_INSTALL)" in makefile


# --- Actions, Dependabot, pre-commit -------------------------------------------------------------------------------


def test_every_action_is_pinned_by_commit_and_the_same_action_by_the_same_commit(rendered: Renderer) -> None:
    """Given the template's and a render's workflows, then each `uses:` is a SHA with its tag; one SHA per action."""
    project = rendered("all-on")
    workflows = [*(REPO_ROOT / ".github" / "workflows").glob("*.yml"), *(project / ".github/workflows").glob("*.yml")]
    pins: dict[str, set[tuple[str, str]]] = {}
    for line in [line for workflow in workflows for line in uses_lines(workflow)]:
        match = PINNED_USE.match(line)
        assert match, f"not pinned by commit with its tag: {line.strip()}"
        pins.setdefault(match["action"], set()).add((match["sha"], match["tag"]))
    assert {"actions/checkout", "actions/setup-python", "astral-sh/setup-uv"} <= set(pins)
    assert {action: pin for action, pin in pins.items() if len(pin) > 1} == {}


def test_generated_ci_checks_the_lock_lints_tests_and_checks_the_template(rendered: Renderer) -> None:
    """Given a render's CI, then it checks the lock, runs make lint and make test-all, and runs cruft check."""
    ci = yaml_file(rendered("all-off") / ".github" / "workflows" / "ci.yml")
    runs = [step.get("run") for job in ci["jobs"].values() for step in job["steps"]]
    assert {"uv lock --check", "make lint", "make test-all", "make template-check"} <= set(runs)
    assert "@$(VENV)/bin/cruft check" in (rendered("all-off") / "Makefile").read_text()


def test_dependabot_watches_uv_and_actions(rendered: Renderer) -> None:
    """Given the template's and a render's dependabot.yml, then both update uv.lock and the actions weekly."""
    service = yaml_file(rendered("all-on") / ".github" / "dependabot.yml")
    template = yaml_file(REPO_ROOT / ".github" / "dependabot.yml")
    for config in (service, template):
        assert config["version"] == 2
        assert {update["package-ecosystem"] for update in config["updates"]} == {"uv", "github-actions"}
        assert {update["schedule"]["interval"] for update in config["updates"]} == {"weekly"}
    assert all(update["directory"] == "/" for update in service["updates"])
    (actions,) = [update for update in template["updates"] if update["package-ecosystem"] == "github-actions"]
    assert actions["directories"] == ["/", "/{{cookiecutter.project}}"]


def test_pre_commit_runs_the_locked_tools_offline(rendered: Renderer) -> None:
    """Given a render's .pre-commit-config.yaml, then it has the hygiene hooks, all local (nothing cloned)."""
    project = rendered("all-on")
    config = yaml_file(project / ".pre-commit-config.yaml")
    assert [repo["repo"] for repo in config["repos"]] == ["local"]
    hooks = {hook["id"]: hook for hook in config["repos"][0]["hooks"]}
    assert set(hooks) == {
        "ruff", "ruff-format", "mypy", "check-yaml", "check-json", "detect-private-key", "cfn-lint"
    }
    assert {hook["language"] for hook in hooks.values()} == {"system"}
    assert hooks["cfn-lint"]["entry"] == "make --no-print-directory check-template"
    # And: the tools the hooks call are locked dev dependencies
    pyproject = (project / "pyproject.toml").read_text()
    assert all(f'"{tool}>=' in pyproject for tool in ("pre-commit", "pre-commit-hooks", "ruff", "mypy", "cfn-lint"))
    # And: make lint is those hooks over every file
    assert "-m pre_commit run --all-files" in (project / "Makefile").read_text()


def test_mypy_reads_boto3_typed(rendered: Renderer) -> None:
    """Given a render's pyproject.toml, then boto3's stubs are dev dependencies and no override hides boto3."""
    pyproject = (rendered("all-on") / "pyproject.toml").read_text()
    assert '"types-boto3[dynamodb,dynamodbstreams,lambda,s3,sns,sqs,stepfunctions,sts]' in pyproject
    assert "boto3.*" not in pyproject and "botocore.*" not in pyproject


# --- Template updates (cruft) --------------------------------------------------------------------------------------


@pytest.fixture
def template_repo(template_dir: Path, tmp_path: Path) -> Path:
    """Given: a throwaway git repository holding the template, with one commit."""
    repo = tmp_path / "sls-template"
    subprocess.run(["cp", "-a", str(template_dir), str(repo)], check=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template v1")
    return repo


def test_a_service_records_its_template_and_commit_as_cruft_does(template_repo: Path, tmp_path: Path) -> None:
    """Given a render from a git checkout, then .cruft.json names the checkout, its HEAD and the answers."""
    project = render(template_repo, tmp_path / "out", include_stream="n")
    state = json.loads((project / ".cruft.json").read_text())
    commit = git(template_repo, "rev-parse", "HEAD")
    assert {key: state[key] for key in ("template", "commit", "checkout", "directory")} == {
        "template": str(template_repo.resolve()), "commit": commit, "checkout": None, "directory": None
    }
    answers = state["context"]["cookiecutter"]
    assert answers["include_stream"] == "n" and answers["project"] == project.name
    assert (answers["_template"], answers["_commit"]) == (str(template_repo.resolve()), commit)
    assert "_output_dir" not in answers


def test_a_template_that_is_not_a_git_checkout_records_nothing(rendered: Renderer) -> None:
    """Given a render from a plain copy of the template, then there is no .cruft.json (no commit to update from)."""
    assert not (rendered("all-on") / ".cruft.json").exists()


@pytest.mark.ci  # ~50 s: cruft renders the template three times in subprocesses
def test_cruft_update_brings_a_later_template_commit_in(template_repo: Path, tmp_path: Path) -> None:
    """Given a service generated from one template commit, when the template moves on, cruft check fails and
    cruft update applies the change."""
    project = render(template_repo, tmp_path / "out", include_orders="n", include_schedule="n")
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "generated"]):
        git(project, *step)
    cruft = str(Path(sys.executable).with_name("cruft"))
    assert "up to date" in run([cruft, "check"], cwd=project).stdout
    # When: a later template commit changes a generated file
    readme = template_repo / "{{cookiecutter.project}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line from a later template commit.\n")
    git(template_repo, "commit", "-q", "-a", "-m", "template v2")
    # Then: the service is reported behind...
    behind = subprocess.run([cruft, "check"], cwd=project, capture_output=True, text=True, check=False)
    assert behind.returncode != 0 and "out of date" in behind.stdout
    # ...and cruft update brings the line in, records the new commit, and leaves nothing else changed
    run([cruft, "update", "--skip-apply-ask"], cwd=project)
    assert (project / "README.md").read_text().endswith("\nA line from a later template commit.\n")
    assert json.loads((project / ".cruft.json").read_text())["commit"] == git(template_repo, "rev-parse", "HEAD")
    changed = run(["git", "status", "--porcelain"], cwd=project).stdout.splitlines()
    assert sorted(line[3:] for line in changed) == [".cruft.json", "README.md"]
    assert "up to date" in run([cruft, "check"], cwd=project).stdout
