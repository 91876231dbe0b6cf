"""The AWS endpoint's child process, started before `devstack up` knows its settings.

Importing moto is the longest single step of a start, and `devstack up` only knows the endpoint's
port, region and services after its own imports (pydantic-settings) and the project's files. So
`devstack up` spawns the child first of all (`launch.py`): the child imports moto meanwhile, then
reads its flags and environment as one JSON line on stdin (`configure`). Its stdin stays open after
that: when devstack exits, even killed, the child reads EOF and stops. A child devstack does not
use (`--single`, a start that fails early) is discarded, or ends with devstack.
"""

import json
import os
import subprocess
import sys
from dataclasses import dataclass

# What must not reach moto's botocore sessions (they fail on a profile this machine lacks).
DROPPED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN")


@dataclass
class EndpointChild:
    """A started endpoint child: its process, and the read ends of its ready and wake-up pipes."""

    process: "subprocess.Popen[bytes]"
    ready_fd: int
    wake_fd: int

    @classmethod
    def spawn(cls) -> "EndpointChild":
        """Start `python -m chalice_devstack.endpoint --early`: it imports moto, then waits for `configure`."""
        ready_read, ready_write = os.pipe()
        wake_read, wake_write = os.pipe()
        environment = {name: value for name, value in os.environ.items() if name not in DROPPED_VARIABLES}
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "chalice_devstack.endpoint",
                "--early",
                "--ready-fd",
                str(ready_write),
                "--wake-fd",
                str(wake_write),
            ],
            stdin=subprocess.PIPE,
            pass_fds=(ready_write, wake_write),
            env=environment,
        )
        os.close(ready_write)
        os.close(wake_write)
        return cls(process, ready_read, wake_read)

    def configure(self, flags: list[str], environment: dict[str, str]) -> None:
        """Send the child its flags (as `python -m chalice_devstack.endpoint` takes them) and environment."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"flags": flags, "environment": environment}).encode() + b"\n")
        self.process.stdin.flush()

    def discard(self) -> None:
        """End a child devstack will not use."""
        if self.process.stdin is not None:
            self.process.stdin.close()  # EOF before its flags: it exits
        self.process.wait()
        os.close(self.ready_fd)
        os.close(self.wake_fd)


_early: list[EndpointChild] = []


def start_early() -> None:
    """Spawn the child now, for the `devstack up` this process runs (`take` hands it over)."""
    _early.append(EndpointChild.spawn())


def take() -> EndpointChild:
    """The child spawned early, or one spawned now."""
    return _early.pop() if _early else EndpointChild.spawn()


def discard_early() -> None:
    """End the child spawned early, if any (devstack runs in one process)."""
    while _early:
        _early.pop().discard()
