"""Wake-ups for the pollers: the AWS endpoint says when a source has something to read.

devstack owns the endpoint, so it sees a message land on a queue or a record on a stream
(chalice_devstack.moto_hooks) and wakes the pollers of that source, instead of each poller
asking on a timer. A notice may be due later: a message made invisible for N seconds wakes its
pollers then (messages turning visible otherwise are found by moto_hooks' sweep). A poller still
looks every `SAFETY_POLL_SECONDS` in case a notice was lost (a full pipe).

Sources are named by key: `sqs:<queue name>`, `dynamodb:<table name>`, `kinesis:<stream name>`.
"""

import contextlib
import heapq
import os
import threading
import time
from collections.abc import Callable

SAFETY_POLL_SECONDS = 30.0  # for a lost notice; moto_hooks sweeps for messages turning visible every second
# A notice due later fires this much after its deadline: moto compares visibility in whole milliseconds.
DUE_MARGIN_SECONDS = 0.01

Notify = Callable[[str, float], None]


class Wake:
    """One source's wake-ups: a count that moves on every notice (now, or when a due notice comes due).

    `safety_poll`: how long a wait lasts, at most, when no notice comes.
    """

    def __init__(self, safety_poll: float = SAFETY_POLL_SECONDS) -> None:
        self.safety_poll = safety_poll
        self._changed = threading.Condition()
        self._count = 0
        self._due: list[float] = []  # monotonic deadlines of notices due later

    @property
    def count(self) -> int:
        """How many notices so far: take it before reading the source, pass it to `wait`."""
        with self._changed:
            self._collect_due(time.monotonic())
            return self._count

    def notify(self, delay: float = 0.0) -> None:
        """Wake every waiter now, or after `delay` seconds."""
        with self._changed:
            if delay > 0:
                heapq.heappush(self._due, time.monotonic() + delay + DUE_MARGIN_SECONDS)
            else:
                self._count += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float | None = None) -> int:
        """Block until a notice after `seen` (or `timeout` seconds, the safety poll by default); return the count."""
        deadline = time.monotonic() + (self.safety_poll if timeout is None else timeout)
        with self._changed:
            while True:
                now = time.monotonic()
                self._collect_due(now)
                if self._count != seen or now >= deadline:
                    return self._count
                self._changed.wait(min(deadline, self._due[0]) - now if self._due else deadline - now)

    def _collect_due(self, now: float) -> None:
        """Turn the notices that have come due into notices (the lock is held)."""
        while self._due and self._due[0] <= now:
            heapq.heappop(self._due)
            self._count += 1
            self._changed.notify_all()


class Wakes:
    """Every source's Wake, by key; a notice for a key nobody waits on is dropped."""

    def __init__(self, safety_poll: float = SAFETY_POLL_SECONDS) -> None:
        self.safety_poll = safety_poll
        self._wakes: dict[str, Wake] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Wake:
        """The Wake of a source (made on first use)."""
        with self._lock:
            return self._wakes.setdefault(key, Wake(self.safety_poll))

    def notify(self, key: str, delay: float = 0.0) -> None:
        """Wake the pollers of `key` now or after `delay` seconds."""
        wake = self._wakes.get(key)
        if wake is not None:
            wake.notify(delay)


# moto's state is process-wide, and so are its notices: one registry per process.
SHARED = Wakes()


def pipe_notifier(fd: int) -> Notify:
    """A notify that writes `key delay` lines to a pipe (the endpoint child -> devstack's pollers).

    The pipe is non-blocking: if the reader ever falls behind, a notice is dropped, and the
    safety poll picks its message up.
    """
    os.set_blocking(fd, False)

    def notify(key: str, delay: float = 0.0) -> None:
        with contextlib.suppress(BlockingIOError, BrokenPipeError):
            os.write(fd, f"{key} {delay:.3f}\n".encode())

    return notify


def relay_notices(fd: int, wakes: Wakes = SHARED) -> threading.Thread:
    """Read a pipe_notifier's lines on a daemon thread and pass each notice to `wakes` (until the pipe closes)."""

    def pump() -> None:
        pending = b""
        with os.fdopen(fd, "rb", buffering=0) as pipe:
            while chunk := pipe.read(65536):
                *lines, pending = (pending + chunk).split(b"\n")
                for line in lines:
                    key, _, delay = line.decode().rpartition(" ")
                    wakes.notify(key, float(delay or 0))

    thread = threading.Thread(target=pump, name="devstack-wakes", daemon=True)
    thread.start()
    return thread
