"""The README's options table and commands stay true to cookiecutter.json and the Makefile."""

import re
from pathlib import Path

import pytest

from tests.conftest import Renderer
from tests.support import REPO_ROOT, combos, default_options

README = (REPO_ROOT / "README.md").read_text()


def options_table() -> dict[str, str]:
    """The README options table: option -> default cell."""
    section = README.split("## Options", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| (.+?) \|", section, flags=re.MULTILINE))


def test_every_option_is_documented_with_its_default() -> None:
    """Given cookiecutter.json, then the README table has each option once, with its default shown."""
    table = options_table()
    defaults = default_options()
    assert set(table) == set(defaults)
    for option, value in defaults.items():
        assert f"`{value}`" in table[option] or f"({value})" in table[option].replace("`", ""), option


def setup_block() -> dict[str, str]:
    """The README's set-up block under "Working on the template": command -> its comment."""
    block = README.split("## Working on the template", 1)[1].split("```")[1]
    lines = [line.split("#", 1) for line in block.strip().splitlines()]
    return {command.strip(): comment.strip() for command, comment in lines}


def test_the_setup_commands_are_make_demo_test_and_ci_each_a_make_target() -> None:
    """Given the README's set-up block, then it holds make demo, make test and make ci, each a Makefile target."""
    commands = list(setup_block())
    assert commands == ["make demo", "make test", "make ci"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert [name for name in ("demo", "test", "ci") if not re.search(rf"^{name}:", makefile, re.MULTILINE)] == []


def test_ci_runs_exactly_the_command_the_readme_names_for_ci() -> None:
    """Given the README's command commented "what CI runs", then .ci/run is executable and ends with that command."""
    named = [command for command, comment in setup_block().items() if comment.startswith("what CI runs")]
    ci = REPO_ROOT / ".ci" / "run"
    assert ci.stat().st_mode & 0o111
    assert named == [ci.read_text().splitlines()[-1]]


# --- the generated service's README, for every option combination ---------------------------------

GENERATED_COMBOS = combos()


def generated_readme(rendered: Renderer, name: str) -> tuple[Path, str]:
    """A render's folder and its README."""
    project = rendered(name)
    return project, (project / "README.md").read_text()


def makefile_targets(project: Path) -> set[str]:
    """The targets a render's Makefile defines."""
    return set(re.findall(r"^([a-z][a-z0-9-]*):", (project / "Makefile").read_text(), flags=re.MULTILINE))


@pytest.mark.parametrize("name", GENERATED_COMBOS)
def test_the_generated_readme_starts_with_devstack_and_lesson_00(rendered: Renderer, name: str) -> None:
    """Given a render, then its README shows the description once and starts the reader on make dev,
    status, env (trigger when it has schedules) and lesson 00."""
    _, readme = generated_readme(rendered, name)
    assert readme.count(default_options()["description"]) == 1
    start = readme.split("## Start here", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make [a-z-]+|eval \"\$\(make -s env\)\")", start, flags=re.MULTILINE)
    expected = ["make install", "make dev", "make status", 'eval "$(make -s env)"']
    if "schedule" not in GENERATED_COMBOS[name]:
        expected.insert(3, "make trigger")
    assert commands == expected
    assert "(docs/workshop/00-devstack.md)" in start


@pytest.mark.parametrize("name", GENERATED_COMBOS)
def test_the_generated_readme_names_only_what_the_render_has(rendered: Renderer, name: str) -> None:
    """Given a render, then every make command its README names is a target, and every file it links or
    names in code is there: a switched-off pattern leaves no mention behind."""
    project, readme = generated_readme(rendered, name)
    named = set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", readme))
    assert named - makefile_targets(project) == set()
    links = re.findall(r"\]\(([^)#]+)", readme)
    paths = re.findall(r"`((?:chalicelib|docs|scripts|tests|infra|loadtests)/[\w./-]*)`", readme)
    assert [path for path in [*links, *paths] if not (project / path).exists()] == []


@pytest.mark.parametrize("name", GENERATED_COMBOS)
def test_the_generated_readme_says_what_each_test_command_runs(rendered: Renderer, name: str) -> None:
    """Given a render, then its README says make test runs unit, integration, fast e2e and the offline
    template check, and that make test-all and packaging need the package index."""
    _, readme = generated_readme(rendered, name)
    [test_line] = [line for line in readme.splitlines() if line.startswith("make test ")]
    assert all(word in test_line for word in ("unit", "integration", "e2e", "offline template check"))
    [test_all_line] = [line for line in readme.splitlines() if line.startswith("make test-all ")]
    assert "PyPI" in test_all_line and "PyPI" in readme.split("## Tests", 1)[1]
