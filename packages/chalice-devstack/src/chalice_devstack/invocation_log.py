"""What a function prints or logs during one invocation, kept per thread, as Lambda keeps one log per request.

In one process (`--single`) invocations run on threads, so stdout/stderr are shared; an execution
environment (a worker process) captures the same way, one invocation at a time. `OutputCapture`
swaps both for a tee that always writes through to the real stream (the terminal still shows
everything) and also copies into the buffer of the thread that is capturing, if any. Logging
handlers that already hold the real stream (Chalice's `app.log` handler is created at import)
are pointed at the tee too, so `app.log.info(...)` lands in the invocation's log like `print`.
"""

import io
import logging
import math
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

TAIL_BYTES = 4096  # Invoke's LogResult carries the last 4 KB of the log


class ThreadTee:
    """A text stream that writes to `target` and to the current thread's capture buffer.

    Writes reach `target` a whole line at a time: print() sends the text and its newline as two
    writes, and another thread's line landing between them would merge two lines on the console.
    """

    def __init__(self, target: TextIO, local: threading.local) -> None:
        self.target, self._local = target, local
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        """Write through (complete lines now, the rest at the next newline or flush); copy into this thread's buffer."""
        buffer: io.StringIO | None = getattr(self._local, "buffer", None)
        if buffer is not None:
            buffer.write(text)
        lines, newline, rest = (getattr(self._local, "pending", "") + text).rpartition("\n")
        self._local.pending = rest
        if newline:
            with self._lock:
                self.target.write(lines + newline)
        return len(text)

    def flush(self) -> None:
        """Write this thread's unfinished line, then flush the real stream."""
        pending = getattr(self._local, "pending", "")
        self._local.pending = ""
        with self._lock:
            if pending:
                self.target.write(pending)
            self.target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.target, name)  # fileno, encoding, isatty... of the real stream


class OutputCapture:
    """Per-thread capture of stdout, stderr and logging output."""

    def __init__(self) -> None:
        self._local = threading.local()
        self._install_lock = threading.Lock()

    def _install(self) -> None:
        """Put tees on sys.stdout/sys.stderr (again if someone, e.g. pytest, swapped them since)."""
        with self._install_lock:
            for name in ("stdout", "stderr"):
                stream = getattr(sys, name)
                if isinstance(stream, ThreadTee):
                    continue
                tee = ThreadTee(stream, self._local)
                setattr(sys, name, tee)
                self._repoint_handlers(stream, tee)

    @staticmethod
    def _repoint_handlers(stream: TextIO, tee: ThreadTee) -> None:
        loggers = [logging.getLogger(), *(logging.getLogger(name) for name in logging.root.manager.loggerDict)]
        for logger in loggers:
            for handler in getattr(logger, "handlers", []):
                if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
                    handler.setStream(tee)

    @contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        """Collect what this thread writes to stdout/stderr/logging while the block runs."""
        self._install()
        buffer = io.StringIO()
        self._local.buffer = buffer
        try:
            yield buffer
        finally:
            self._local.buffer = None


def lambda_log(
    request_id: str,
    output: str,
    error: str | None,
    duration_ms: float,
    memory_mb: int,
    used_mb: int,
    init_ms: float | None = None,
) -> str:
    """One invocation's log as CloudWatch shows it: START, the output, the error, END and REPORT."""
    body = output if not output or output.endswith("\n") else output + "\n"
    failure = f"[ERROR] {error}\n" if error else ""
    billed = max(1, math.ceil(duration_ms))
    init = f"\tInit Duration: {init_ms:.2f} ms" if init_ms is not None else ""
    return (
        f"START RequestId: {request_id} Version: $LATEST\n{body}{failure}END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\tBilled Duration: {billed} ms\t"
        f"Memory Size: {memory_mb} MB\tMax Memory Used: {used_mb} MB{init}\n"
    )


def tail(log: str, limit: int = TAIL_BYTES) -> str:
    """The last `limit` bytes of log (cut at a character boundary)."""
    data = log.encode()
    return data[-limit:].decode(errors="ignore") if len(data) > limit else log
