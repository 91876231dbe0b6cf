"""`devstack lessons`: marked blocks run in one shell, their promised output is checked, the first divergence stops."""

import subprocess
import sys
from pathlib import Path

import pytest

from chalice_devstack.tooling.lessons import (
    Divergence,
    LessonError,
    Tally,
    matches,
    parse,
    run_lessons,
    shell_environment,
)
from tests.conftest import write_project

SETUP = """# 00 · setup

Prose, and a block the runner leaves alone:

```sh
rm -rf /
```

```sh lesson
export GREETING=hello
NAME=ada
greet() { echo "$GREETING, $1"; }
```

```sh lesson skip: needs an AWS account
aws cloudformation deploy ...
```
"""

USE = """# 01 · use

```sh lesson
greet $NAME
echo "id: $RANDOM$RANDOM"
```

```text expect
hello, ada
id: ...
```

```sh lesson status=3
( exit 3 )
```
"""


def lessons(tmp_path: Path, **texts: str) -> list[Path]:
    """Write markdown lessons named by the keywords (in order) into tmp_path."""
    files = []
    for name, text in texts.items():
        files.append(tmp_path / f"{name}.md")
        files[-1].write_text(text)
    return files


def run(files: list[Path], tmp_path: Path) -> tuple[Tally, list[str]]:
    """Run the lessons in tmp_path; return the tally and the progress lines."""
    lines: list[str] = []
    return run_lessons(files, tmp_path, shell_environment({}), lines.append), lines


def divergence(files: list[Path], tmp_path: Path) -> Divergence:
    """Run the lessons, which must diverge; return where."""
    tally, _ = run(files, tmp_path)
    assert tally.divergence is not None
    return tally.divergence


def test_only_marked_blocks_run_with_their_expectation_attached(tmp_path: Path) -> None:
    """Given a lesson with prose, lesson, skipped and expect blocks, when parsed, then only marked blocks count."""
    setup, use = lessons(tmp_path, setup=SETUP, use=USE)
    blocks = parse(setup) + parse(use)
    assert [(block.line, block.skip) for block in blocks[:2]] == [(9, None), (15, "needs an AWS account")]
    assert blocks[2].expect == "hello, ada\nid: ...\n"
    assert (blocks[3].status, blocks[3].expect) == (3, None)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("```sh lesson timeout=soon\nls\n```\n", "unknown lesson option 'timeout=soon'"),
        ("```text expect\nhello\n```\n", "an expect block must follow a lesson block that runs"),
        ("```sh lesson skip: no\nls\n```\n```text expect\nx\n```\n", "must follow a lesson block that runs"),
    ],
)
def test_a_malformed_mark_names_the_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    """Given a lesson with a bad mark, when parsed, then the error names the file, the line and the problem."""
    (bad,) = lessons(tmp_path, bad=text)
    with pytest.raises(LessonError, match=f"{bad}:\\d+: .*{problem}"):
        parse(bad)


@pytest.mark.parametrize(
    ("expected", "actual", "verdict"),
    [
        ("a\nb\n", "a  \nb\n\n", True),  # trailing spaces and blank lines do not count
        ("a\nb\n", "a\nc\n", False),
        ('{"id": "...", "name": "Ada"}\n', '{"id": "1f2e", "name": "Ada"}\n', True),
        ('{"id": "...", "name": "Ada"}\n', '{"id": "1f2e", "name": "Bob"}\n', False),
        ("first\n...\nlast\n", "first\nx\ny\nlast\n", True),
        ("first\n...\nlast\n", "first\nlast\n", True),
        ("first\n...\nlast\n", "first\nx\n", False),
        ("a.b\n", "axb\n", False),  # only `...` is special: the rest is literal
    ],
)
def test_expected_output_is_exact_except_for_ellipses(expected: str, actual: str, verdict: bool) -> None:
    """Given an expected block and an output, when matched, then only `...` stands for varying text."""
    assert matches(expected, actual) is verdict


def test_state_carries_from_block_to_block_and_lesson_to_lesson(tmp_path: Path) -> None:
    """Given two lessons, when run, then exports, variables and functions carry on and skipped blocks are listed."""
    tally, lines = run(lessons(tmp_path, setup=SETUP, use=USE), tmp_path)
    assert tally.divergence is None
    assert (tally.ran, tally.skipped) == (3, 1)
    assert "  line   15  not executed: needs an AWS account" in lines
    assert any(line.startswith("  line    3  output as promised") for line in lines)


def test_a_false_promise_stops_the_run_naming_lesson_block_and_both_outputs(tmp_path: Path) -> None:
    """Given a lesson whose promised output was edited to something false, when run, then it fails right there."""
    files = lessons(tmp_path, setup=SETUP, use=USE.replace("hello, ada", "hello, bob"), after="```sh lesson\nls\n```\n")
    report = divergence(files, tmp_path).report()
    assert report.splitlines()[0] == "FAILED use.md, block at line 3: the output differs from the expected block"
    assert "commands:\n    greet $NAME\n" in report
    assert "expected:\n    hello, bob\n    id: ...\nactual:\n    hello, ada\n    id: " in report
    assert run(files, tmp_path)[0].ran == 1  # nothing after the divergence ran


def test_a_failing_command_mid_block_is_named_even_when_the_block_ends_well(tmp_path: Path) -> None:
    """Given a block whose middle command fails, when run, then the divergence names that command and its status."""
    text = "```sh lesson\nUSER_ID=$(python3 -c 'import sys; sys.exit(4)')\necho done\n```\n"
    problem = divergence(lessons(tmp_path, broken=text), tmp_path).problem
    assert "`USER_ID=$(python3 -c 'import sys; sys.exit(4)')` exited 4" in problem


def test_an_unexpected_exit_status_fails(tmp_path: Path) -> None:
    """Given a block promising exit 1, when its last command exits 0, then the run fails naming both."""
    found = divergence(lessons(tmp_path, status="```sh lesson status=1\ntrue\n```\n"), tmp_path)
    assert found.problem == "the last command exited 0, expected 1"


def test_a_block_past_its_timeout_is_stopped_and_reported_with_its_output_so_far(tmp_path: Path) -> None:
    """Given a block that outlasts its bound, when run, then it is stopped and the report shows what it printed."""
    found = divergence(lessons(tmp_path, slow="```sh lesson timeout=1\necho started\nsleep 30\n```\n"), tmp_path)
    assert (found.problem, found.output) == ("did not finish within 1 s", "started\n")


ECHO_APP = """
from chalice import Chalice

app = Chalice(app_name="hello")


@app.route("/")
def index():
    return {"hello": "lessons"}
"""

API_LESSON = """# 00 · the API

```sh lesson
curl -s "http://127.0.0.1:$DEVSTACK_API_PORT/"; echo
```

```text expect
{"hello":"lessons"}
```
"""


@pytest.mark.slow  # a devstack and the lessons end to end; the fast path keeps the runner's tests above
def test_the_command_starts_a_devstack_runs_the_lessons_and_exits_1_on_a_false_promise(tmp_path: Path) -> None:
    """Given a Chalice project and a lesson calling its API, when `devstack lessons` runs, then it passes; edited false,
    it exits 1 with the report."""
    project = write_project(tmp_path / "hello", "hello").root
    (project / "app.py").write_text(ECHO_APP)
    (lesson,) = lessons(project, lesson=API_LESSON)
    command = [sys.executable, "-m", "chalice_devstack", "lessons", str(lesson)]
    passed = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "lessons passed: 1 files, 1 blocks ran, 0 not executed" in passed.stdout
    lesson.write_text(API_LESSON.replace('"lessons"}', '"workshop"}'))
    failed = subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=120, check=False)
    assert failed.returncode == 1
    assert "FAILED lesson.md, block at line 3: the output differs from the expected block" in failed.stdout
    assert 'expected:\n    {"hello":"workshop"}\nactual:\n    {"hello":"lessons"}' in failed.stdout


def test_a_block_whose_last_command_fails_fails_even_when_no_single_command_is_to_blame(tmp_path: Path) -> None:
    """Given a block ending in a false `test && echo`, when run, then its exit status is the divergence."""
    found = divergence(lessons(tmp_path, check='```sh lesson\n[ "a" = "b" ] && echo same\n```\n'), tmp_path)
    assert found.problem == "the last command exited 1"
