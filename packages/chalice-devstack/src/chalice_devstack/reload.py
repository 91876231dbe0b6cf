"""Code reload for `devstack up`: when the functions' source changes, import the app afresh, keep the AWS state.

`chalice local` restarts its process on a change; devstack cannot (the AWS endpoint's tables, queues
and messages would go with it), so it re-imports instead: every module loaded from the project
(app.py, chalicelib/...) is dropped, app.py is imported again and the function registry takes the
new handlers. The API, the pollers and the Lambda API reach functions through the registry, so the
next invocation runs the new code; one in flight finishes on the old. Watched: app.py and
chalicelib/, what `chalice package` ships. If the new code fails to import, the previous modules
come back and one line says why. A new or removed event source needs a restart (a line says so):
its poller is set up once, with its starting position.
"""

import importlib
import importlib.util
import sys
import threading
import traceback
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

WATCHED = ("app.py", "chalicelib")
# How often the watcher takes the interpreter lock to look at its stop event and new changes
# (watchfiles' default is 50 ms: 20 wake-ups a second of an idle devstack); a reload waits at most this long more.
WATCH_STEP_MS = 250


def import_failure(error: BaseException, root: Path) -> str:
    """One line for an app that failed to import: the error and the project file and line it came from."""
    frames = traceback.extract_tb(error.__traceback__)
    if isinstance(error, SyntaxError) and error.filename:  # the failing file is the error's, not a frame's
        frames.append(traceback.FrameSummary(error.filename, error.lineno or 0, "<module>"))
    own = [f for f in frames if is_project_file(f.filename, root)]
    where = f" ({Path(own[-1].filename).relative_to(root)}:{own[-1].lineno})" if own else ""
    message = error.msg if isinstance(error, SyntaxError) else error  # a SyntaxError's str repeats file and line
    return f"app.py failed to import: {type(error).__name__}: {message}{where}"


def is_project_file(filename: str | None, root: Path) -> bool:
    """Whether a module file is the project's own code (not an installed package inside the project's venv)."""
    return bool(filename) and str(filename).startswith(f"{root}/") and "/site-packages/" not in str(filename)


def import_app(root: Path) -> Any:
    """Import the project's app.py and return its `app` (the exception propagates)."""
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return importlib.import_module("app").app


def project_modules(root: Path) -> dict[str, ModuleType]:
    """Every loaded module whose file is the project's own."""
    return {name: module for name, module in list(sys.modules.items()) if is_project_file(module_file(module), root)}


def module_file(module: Any) -> str | None:
    """A module's file (None for built-ins and namespace packages)."""
    return getattr(module, "__file__", None)


def reimport_app(root: Path) -> Any:
    """Import the app from fresh project modules; on failure put the previous modules back and re-raise."""
    previous = project_modules(root)
    for name in previous:
        del sys.modules[name]
    try:
        return import_app(root)
    except BaseException:
        for name in project_modules(root):
            del sys.modules[name]
        sys.modules.update(previous)
        raise


def forget_bytecode(paths: Iterable[str]) -> None:
    """Drop the cached bytecode of changed modules: an edit within the second that keeps the size looks unchanged."""
    for path in paths:
        if path.endswith(".py"):
            Path(importlib.util.cache_from_source(path)).unlink(missing_ok=True)


class Reloader:
    """Watches the functions' source on a thread of its own; each change reloads the app into `registry`."""

    def __init__(self, registry: Any, root: Path, echo: Callable[[str], None]) -> None:
        self.registry, self.root, self.echo = registry, root, echo
        self._stop = threading.Event()
        self.paths = [root / name for name in WATCHED if (root / name).exists()]

    def start(self) -> None:
        """Start watching (returns at once)."""
        threading.Thread(target=self._watch, name="devstack-reload", daemon=True).start()

    def stop(self) -> None:
        """Stop watching."""
        self._stop.set()

    def _watch(self) -> None:
        from watchfiles import DefaultFilter, watch

        for changes in watch(
            *self.paths,
            watch_filter=DefaultFilter(),
            stop_event=self._stop,
            raise_interrupt=False,
            step=WATCH_STEP_MS,
        ):
            # An editor's (or sed -i's) scratch file comes and goes within one change set: not the source.
            changed = sorted({path for _, path in changes if path.endswith(".py") or Path(path).exists()})
            if changed:
                self.reload(changed)

    def reload(self, changed: Iterable[str]) -> bool:
        """Import the app again and hand it to the registry; print one line either way; True when reloaded."""
        changed = list(changed)
        files = ", ".join(str(Path(path).relative_to(self.root)) for path in changed) or "the app"
        forget_bytecode(changed)
        try:
            app = reimport_app(self.root)
        except Exception as error:
            why = import_failure(error, self.root)
            self.echo(f"devstack: reload after {files} failed: {why}; still running the code from before")
            return False
        added, removed = self.registry.reload(app)
        self.echo(f"devstack: reloaded {files} ({len(self.registry.functions)} functions)")
        if added or removed:
            change = ", ".join([*(f"+{name}" for name in added), *(f"-{name}" for name in removed)])
            self.echo(f"devstack: functions changed ({change}): restart devstack to run their event sources")
        return True
