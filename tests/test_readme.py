"""The README's options table and commands stay true to cookiecutter.json and the Makefile."""

import re

from tests.support import REPO_ROOT, default_options

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
