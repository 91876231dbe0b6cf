"""`devstack lessons`: run markdown lessons in order, in ONE shell against ONE devstack, as an attendee does.

A lesson is any markdown file. The runner executes only the fenced blocks marked for it, and checks the
output a block promises in a marked block right after it. The marks sit in the fence's info string, so
GitHub still renders each block as ordinary highlighted code (it reads only the first word):

    ```sh lesson                  executed by bash; every lesson shares one shell session, so exports,
                                  `eval "$(make env)"`, variables and functions carry from block to block
    ```sh lesson timeout=120      ... bounded by 120 s instead of the default 60 s
    ```sh lesson status=1         ... whose last command must exit 1 (otherwise no command may fail)
    ```sh lesson skip: <why>      shown, never executed (a deploy needs an AWS account): the run lists it
    ```text expect                the output (stdout and stderr) of the block above: exact, line by line
                                  (trailing spaces ignored), except that `...` within a line matches any
                                  text and a line holding only `...` matches any number of lines

Unmarked blocks are prose. The run stops at the first divergence (a failed command, an exit status, an
output that differs, a block past its time) and prints the lesson, the block's line, its commands and
the expected and actual output. Files run in the order given, a folder's `*.md` files by name.
"""

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<info>.*)$")
DEFAULT_TIMEOUT_S = 60.0
DONE_MARK = "__lesson_block_done__"
RECORD_END = "\x1e"  # ends each failing command's record (a command may span lines)


class LessonError(ValueError):
    """A lesson's marks are malformed; the message names the file and line."""


@dataclass(frozen=True)
class Block:
    """One executable block of a lesson, with what it promises."""

    lesson: Path
    line: int
    code: str
    expect: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    status: int | None = None
    skip: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one block did: its output, its last command's exit status and every command that failed."""

    output: str
    status: int
    failures: tuple[tuple[int, str], ...]
    seconds: float


@dataclass(frozen=True)
class Divergence:
    """The first place a run differs from its lessons."""

    block: Block
    problem: str
    output: str

    def report(self) -> str:
        """The lesson, the block, its commands, and the expected vs actual output."""
        lines = [
            f"FAILED {self.block.lesson.name}, block at line {self.block.line}: {self.problem}",
            "commands:",
            indent(self.block.code),
        ]
        if self.block.expect is not None:
            lines += ["expected:", indent(self.block.expect)]
        lines += ["actual:", indent(self.output) if self.output.strip() else "    (no output)"]
        return "\n".join(lines)


def indent(text: str) -> str:
    """Text indented by four spaces, for the report."""
    return "\n".join(f"    {line}" for line in text.rstrip("\n").splitlines())


def fences(text: str) -> Iterator[tuple[int, str, str]]:
    """Every fenced block of a markdown text: (line of its opening fence, info string, body)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        index += 1
        if not opening:
            continue
        start, closing = index, opening["fence"]
        while index < len(lines) and not lines[index].strip().startswith(closing):
            index += 1
        yield start, opening["info"].strip(), "\n".join(lines[start:index]) + "\n"
        index += 1


def block_options(path: Path, line: int, words: str) -> dict[str, object]:
    """The options after `lesson` in an info string: timeout=S, status=N, skip: reason."""
    words, skipped, reason = words.partition("skip:")
    options: dict[str, object] = {"skip": reason.strip() or "not executed"} if skipped else {}
    for word in words.split():
        key, _, value = word.partition("=")
        try:
            options[key] = {"timeout": float, "status": int}[key](value)
        except (KeyError, ValueError):
            known = "timeout=S, status=N, skip: why"
            raise LessonError(f"{path}:{line}: unknown lesson option {word!r} ({known})") from None
    return options


def parse(path: Path) -> list[Block]:
    """The lesson blocks of one markdown file, each with the expected block that follows it."""
    blocks: list[Block] = []
    last_was_block = False
    for line, info, body in fences(path.read_text()):
        kind, _, rest = info.partition(" ")
        marks = rest.strip()
        if marks == "expect" or marks.startswith("expect "):
            if not last_was_block or blocks[-1].expect is not None or blocks[-1].skip:
                raise LessonError(f"{path}:{line}: an expect block must follow a lesson block that runs")
            blocks[-1] = replace(blocks[-1], expect=body)
            last_was_block = False
            continue
        last_was_block = kind in {"sh", "bash", "shell"} and (marks == "lesson" or marks.startswith("lesson "))
        if last_was_block:
            options = block_options(path, line, marks.removeprefix("lesson"))
            blocks.append(Block(path, line, body, **options))  # type: ignore[arg-type]
    return blocks


def pattern(expected: str) -> re.Pattern[str]:
    """The expected text as a regex: `...` within a line is any text, a line of `...` any lines."""
    parts = []
    for line in normalized(expected).splitlines():
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.split("...")) + r"\n")
    return re.compile("".join(parts))


def normalized(text: str) -> str:
    """Trailing spaces off every line, blank lines off both ends."""
    return "\n".join(line.rstrip() for line in text.splitlines()).strip("\n") + "\n"


def matches(expected: str, actual: str) -> bool:
    """True when the actual output is what the expected block promises."""
    return pattern(expected).fullmatch(normalized(actual)) is not None


def lesson_files(paths: Sequence[Path]) -> list[Path]:
    """The markdown files to run, in order: files as given, a folder's *.md by name."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(path.glob("*.md"))
        elif path.is_file():
            files.append(path)
        else:
            raise LessonError(f"{path}: no such file or folder")
    return files


class Shell:
    """One bash session for the whole run: each block is sourced into it, so its state carries on."""

    def __init__(self, cwd: Path, env: dict[str, str], workdir: Path) -> None:
        self.workdir = workdir
        self.failures = workdir / "failures"
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],  # noqa: S607 - bash from PATH, as the attendee's own
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=cwd,
            env=env,
            start_new_session=True,  # a timeout stops the block's children too
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        # Every failing command, as it fails (status, command, a record separator): the report names it.
        record = f'printf \'%s %s\\036\' "$?" "$BASH_COMMAND" >> {shlex.quote(str(self.failures))}'
        self._send(f"__lesson_failed() {{ {record}; }}")
        self._send("trap __lesson_failed ERR")

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put("")

    def _send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def run(self, number: int, code: str, timeout: float) -> Outcome | None:
        """Source one block (stdin empty, output to a file); None when it outlasts its timeout or ends the shell."""
        script, output = self.workdir / f"block-{number}.sh", self.workdir / f"block-{number}.out"
        script.write_text(code)
        self.failures.write_text("")
        source = f"source {shlex.quote(str(script))}"
        started = time.monotonic()
        self._send(f"{source} < /dev/null > {shlex.quote(str(output))} 2>&1; echo {DONE_MARK} $?")
        status = self._wait(started + timeout)
        self.last_output = output.read_text(errors="replace") if output.exists() else ""
        if status is None:
            return None
        records = (record.partition(" ") for record in self.failures.read_text().split(RECORD_END))
        failures = tuple(
            (int(code_text), command)
            for code_text, _, command in records
            if code_text and not command.startswith(source)
        )
        return Outcome(self.last_output, status, failures, time.monotonic() - started)

    def _wait(self, deadline: float) -> int | None:
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            if not line:
                return None
            if line.startswith(DONE_MARK):
                return int(line.split()[1])

    def close(self) -> None:
        """End the session and anything it left running."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def verdict(block: Block, outcome: Outcome | None, shell: Shell) -> Divergence | None:
    """How a block's outcome differs from its promise, if it does."""
    if outcome is None:
        alive = shell.process.poll() is None
        problem = f"did not finish within {block.timeout:g} s" if alive else "the shell exited"
        return Divergence(block, problem, shell.last_output)
    if block.status is not None and outcome.status != block.status:
        return Divergence(block, f"the last command exited {outcome.status}, expected {block.status}", outcome.output)
    if block.status is None and outcome.failures:
        code, command = outcome.failures[0]
        return Divergence(block, f"`{command}` exited {code}", outcome.output)
    if block.status is None and outcome.status != 0:
        return Divergence(block, f"the last command exited {outcome.status}", outcome.output)
    if block.expect is not None and not matches(block.expect, outcome.output):
        return Divergence(block, "the output differs from the expected block", outcome.output)
    return None


@dataclass
class Tally:
    """What a run did: blocks run, blocks not executed, and the divergence that stopped it (if any)."""

    ran: int = 0
    skipped: int = 0
    divergence: Divergence | None = None


def run_lessons(files: Sequence[Path], cwd: Path, env: dict[str, str], echo: Callable[[str], None] = print) -> Tally:
    """Run every lesson block in order in one shell; stop at the first divergence."""
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="devstack-lessons-") as workdir:
        shell = Shell(cwd, env, Path(workdir))
        try:
            for lesson in files:
                echo(f"lesson {lesson.name}")
                for number, block in enumerate(parse(lesson)):
                    if block.skip:
                        tally.skipped += 1
                        echo(f"  line {block.line:>4}  not executed: {block.skip}")
                        continue
                    outcome = shell.run(number, block.code, block.timeout)
                    tally.divergence = verdict(block, outcome, shell)
                    if tally.divergence or outcome is None:
                        return tally
                    tally.ran += 1
                    checked = "output as promised" if block.expect is not None else "ran"
                    echo(f"  line {block.line:>4}  {checked} ({outcome.seconds:.1f} s)")
        finally:
            shell.close()
    return tally


@contextmanager
def devstack_for_lessons(root: Path, stage: str, region: str) -> Iterator[dict[str, str]]:
    """A fresh devstack on free ports for the run; yield the env that points devstack commands at it."""
    from chalice_devstack.project import Project
    from chalice_devstack.settings import load_settings
    from chalice_devstack.testing import running_devstack

    project = Project.at(root, load_settings(root).resources)
    with running_devstack(project, stage, region) as stack:
        yield {
            "DEVSTACK_AWS_PORT": stack.endpoint_url.rsplit(":", 1)[1],
            "DEVSTACK_API_PORT": stack.api_url.rsplit(":", 1)[1],
            "DEVSTACK_STAGE": stage,
            "DEVSTACK_REGION": region,
        }


# Set by a make that runs the runner (`make lessons`): a terminal has none, and with them every `make`
# in a lesson prints "Entering directory" lines into output such as `eval "$(make env)"` reads.
PARENT_MAKE_VARIABLES = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")


def shell_environment(extra: dict[str, str]) -> dict[str, str]:
    """The attendee's environment: this one, with this interpreter's venv first on PATH (an activated venv)."""
    env = {key: value for key, value in os.environ.items() if key not in PARENT_MAKE_VARIABLES}
    bin_dir = str(Path(sys.executable).parent)
    return {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", "VIRTUAL_ENV": sys.prefix, **extra}
