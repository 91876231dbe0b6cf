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


def test_exactly_two_setup_commands_and_both_are_make_targets() -> None:
    """Given the README's set-up block, then it holds make demo and make test, each a Makefile target."""
    block = README.split("## Working on the template", 1)[1].split("```")[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.MULTILINE) and re.search(r"^test:", makefile, re.MULTILINE)


def test_ci_runs_the_readme_test_command() -> None:
    """Given .ci/run, then it is executable and runs make test."""
    ci = REPO_ROOT / ".ci" / "run"
    assert ci.stat().st_mode & 0o111
    assert ci.read_text().splitlines()[-1] == "make test"
