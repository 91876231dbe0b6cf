"""docs/add-to-existing-project.md, followed to the letter on fresh `chalice new-project` output.

The page is the script: its ```bash blocks are run in order (a `cd` changes the folder, `devstack up`
starts in the background), its ```python/```yaml blocks whose first line is `# PATH` (or
`# PATH, at the end`) are written to that file, and a ```text block is the output the command before
it must show (`...` and decimal figures match anything; every line, in order). Two deliberate
departures, both ways a user has to run the same commands: the default ports are replaced by free
ones (DEVSTACK_* env vars and the URLs in the page), and pip runs with no index at all, so `pip
install` passes only when this venv already satisfies what the page installs.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chalice_devstack.settings import load_settings
from chalice_devstack.testing import free_port

PAGE = Path(__file__).parents[1] / "docs" / "add-to-existing-project.md"
VENV_BIN = Path(sys.executable).parent
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
FILE_HEADER = re.compile(r"# ([\w./-]+)(, at the end)?$")
STEP = re.compile(r"^## (\d+)\. ", re.MULTILINE)
DECIMAL = re.compile(r"\d+\.\d+")
WILDCARD = re.compile(r"(\.\.\.|\d+\.\d+)")
DEFAULT_AWS, DEFAULT_API = "127.0.0.1:4566", "127.0.0.1:8000"
READY_LINE = "devstack ready in"
DROPPED_ENV = ("AWS_", "DEVSTACK_", "PIP_", "PYTEST_")
COMMAND_SECONDS, POLL_SECONDS, START_SECONDS, STOP_SECONDS = 60.0, 10.0, 30.0, 5.0


@dataclass(frozen=True)
class Block:
    """One fenced block of the page: its language and its text."""

    language: str
    text: str


@dataclass
class Walk:
    """Where the walk is: its folder, its env, the `devstack up` child and the last command's output."""

    cwd: Path
    env: dict[str, str]
    page: str
    last: list[str] = field(default_factory=list)
    last_output: str = ""
    child: "subprocess.Popen[str] | None" = None
    child_output: list[str] = field(default_factory=list)


def blocks(text: str) -> list[Block]:
    """The page's fenced blocks, in order."""
    return [Block(language, body) for language, body in FENCE.findall(text)]


def page_text(aws_port: int, api_port: int) -> str:
    """The page, its default ports replaced by the walk's free ones."""
    return PAGE.read_text().replace(DEFAULT_AWS, f"127.0.0.1:{aws_port}").replace(DEFAULT_API, f"127.0.0.1:{api_port}")


def walk_env(aws_port: int, api_port: int) -> dict[str, str]:
    """A user's shell: this venv first on PATH, no AWS/pip/pytest settings of this machine, devstack on free ports."""
    kept = {key: value for key, value in os.environ.items() if not key.startswith(DROPPED_ENV)}
    return {
        **kept,
        "PATH": f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(VENV_BIN.parent),
        "PIP_NO_INDEX": "1",
        "PIP_CONFIG_FILE": os.devnull,
        "PYTHONUNBUFFERED": "1",
        "DEVSTACK_AWS_PORT": str(aws_port),
        "DEVSTACK_API_PORT": str(api_port),
    }


def part_pattern(part: str) -> str:
    """The regex for one piece of an expected line: `...` and decimal figures are wildcards."""
    if part == "...":
        return ".*"
    return r"\d+(?:\.\d+)?" if DECIMAL.fullmatch(part) else re.escape(part)


def expected_line(line: str) -> re.Pattern[str]:
    """A pattern for one expected output line: `...` matches anything, a decimal figure any figure."""
    return re.compile("".join(part_pattern(part) for part in WILDCARD.split(line.rstrip())))


def shows(output: str, expected: str) -> bool:
    """Whether output has every expected line, in order (other lines may come between)."""
    lines = iter(output.splitlines())
    return all(any(pattern.fullmatch(line) for line in lines) for pattern in map(expected_line, expected.splitlines()))


def write_file(walk: Walk, block: Block) -> None:
    """Write a file block where its first line says (appended when it says `, at the end`)."""
    header, _, body = block.text.partition("\n")
    found = FILE_HEADER.fullmatch(header)
    assert found, f"a {block.language} block must start with `# PATH`: {header!r}"
    path = walk.cwd / found[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() + "\n\n" if found[2] and path.exists() else "") + body)


def run_script(walk: Walk, lines: list[str]) -> None:
    """Run shell lines in one bash (exports carry across them); fail with the output when it fails."""
    if not lines:
        return
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "\n".join(lines)],
        cwd=walk.cwd,
        env=walk.env,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
    )
    assert done.returncode == 0, f"{lines} exited {done.returncode}:\n{done.stdout}{done.stderr}"
    walk.last, walk.last_output = lines, done.stdout


def start_devstack(walk: Walk, command: str) -> None:
    """Start `devstack up` in the background and wait (bounded) for its ready line."""
    walk.child = subprocess.Popen(
        shlex.split(command),
        cwd=walk.cwd,
        env=walk.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    threading.Thread(target=pump, args=(walk.child, walk.child_output), daemon=True).start()
    wait_for(walk, lambda: READY_LINE in child_output(walk), START_SECONDS)
    walk.last, walk.last_output = [], child_output(walk)


def pump(child: "subprocess.Popen[str]", lines: list[str]) -> None:
    """Keep every line `devstack up` prints (a thread: its pipe must never fill)."""
    assert child.stdout is not None
    for line in child.stdout:
        lines.append(line)


def child_output(walk: Walk) -> str:
    """Everything `devstack up` printed so far; fails when it has exited."""
    assert walk.child is not None
    output = "".join(walk.child_output)
    assert walk.child.poll() is None, f"devstack up exited {walk.child.returncode}:\n{output}"
    return output


def stop_devstack(walk: Walk) -> None:
    """Ctrl-C `devstack up` (the way its user stops it); kill it if it has not stopped in time."""
    if walk.child is None or walk.child.poll() is not None:
        return
    walk.child.send_signal(signal.SIGINT)
    try:
        walk.child.wait(STOP_SECONDS)
    except subprocess.TimeoutExpired:
        walk.child.kill()
        walk.child.wait()


def wait_for(walk: Walk, condition: Callable[[], bool], timeout: float) -> None:
    """Poll a condition every 50 ms until it holds; fail after timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"not within {timeout:.0f}s; last command's output:\n{walk.last_output}\n"
            f"devstack up's output:\n{''.join(walk.child_output)}"
        )
        time.sleep(0.05)


def check_output(walk: Walk, expected: str) -> None:
    """The last command shows the expected output, re-run (bounded) while it does not yet (e.g. status)."""
    if not walk.last:
        wait_for(walk, lambda: shows(child_output(walk), expected), POLL_SECONDS)
        return
    lines = walk.last

    def shown() -> bool:
        if shows(walk.last_output, expected):
            return True
        run_script(walk, lines)
        return False

    wait_for(walk, shown, POLL_SECONDS)


def run_shell(walk: Walk, text: str) -> None:
    """Run a bash block: plain lines as one script, `cd` in the walk, `devstack up` in the background."""
    pending: list[str] = []
    for line in text.splitlines():
        if line.startswith("cd "):
            run_script(walk, pending)
            pending, walk.cwd = [], walk.cwd / line.removeprefix("cd ").strip()
        elif line.strip().startswith("devstack up"):
            run_script(walk, pending)
            pending = []
            start_devstack(walk, line)
        else:
            pending.append(line)
    run_script(walk, pending)


def follow(walk: Walk, block: Block) -> None:
    """Do what one block of the page says."""
    if block.language == "bash":
        run_shell(walk, block.text)
    elif block.language == "text":
        check_output(walk, block.text)
    elif block.language in {"python", "yaml"}:
        write_file(walk, block)
    else:  # the optional settings example: step 2 says a new project needs none
        assert block.language == "toml", f"a block the walk cannot follow: {block.language!r}"


@pytest.fixture
def walk(tmp_path: Path) -> Iterator[Walk]:
    """Given: an empty folder, free ports, and a walk that always stops its `devstack up`."""
    aws_port, api_port = free_port(), free_port()
    state = Walk(tmp_path, walk_env(aws_port, api_port), page_text(aws_port, api_port))
    try:
        yield state
    finally:
        stop_devstack(state)


def test_the_page_has_at_most_five_steps() -> None:
    """Given the page, when its numbered steps are counted, then they run 1..n with n at most 5."""
    steps = [int(number) for number in STEP.findall(PAGE.read_text())]
    assert steps == list(range(1, len(steps) + 1)) and 3 <= len(steps) <= 5


def test_the_settings_example_is_valid(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Given the page's [tool.devstack] example in a pyproject.toml, when loaded, then every key is a setting."""
    for key in [key for key in os.environ if key.startswith("DEVSTACK_")]:
        monkeypatch.delenv(key)
    (toml,) = [block.text for block in blocks(PAGE.read_text()) if block.language == "toml"]
    (tmp_path / "pyproject.toml").write_text(toml)
    written = tomllib.loads(toml)["tool"]["devstack"]
    assert load_settings(tmp_path).model_dump(include=set(written)) == written


@pytest.mark.slow
def test_new_project_walk(walk: Walk) -> None:
    """Given fresh `chalice new-project` output, when the page's steps are followed, then its handler runs."""
    for block in blocks(walk.page):
        follow(walk, block)
    assert (walk.cwd / "infra" / "resources.yaml").is_file() and "on_sqs_message" in (walk.cwd / "app.py").read_text()
    assert "got hello" in child_output(walk)
