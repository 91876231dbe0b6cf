"""Shared helpers of the template tests: hook loading, rendering, running commands."""

import fcntl
import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from cookiecutter.generate import generate_context
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config

REPO_ROOT = Path(__file__).resolve().parent.parent
HOOKS_DIR = REPO_ROOT / "hooks"
# The generated service's venvs and mypy caches; TEMPLATE_TEST_CACHE points elsewhere (`make bench-tests COLD=1`).
CACHE_DIR = Path(os.environ.get("TEMPLATE_TEST_CACHE") or REPO_ROOT / ".cache")
FEATURES = ("orders", "uploads", "stream", "schedule", "auth")


def load_hook(name: str) -> ModuleType:
    """Import a raw (unrendered) hook file by path, as tests see it."""
    spec = importlib.util.spec_from_file_location(f"hook_{name}", HOOKS_DIR / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def switches(off: tuple[str, ...] = ()) -> dict[str, str]:
    """The include_* extra context with the named features off and the rest on."""
    return {f"include_{feature}": "n" if feature in off else "y" for feature in FEATURES}


def combos() -> dict[str, tuple[str, ...]]:
    """Every combination the template supports: all on, all off, each feature off alone.

    Combinations the pre-gen hook rejects (schedule with neither orders nor uploads)
    are left out; the hook tests cover that rejection.
    """
    pre_gen = load_hook("pre_gen_project")
    candidates = {"all-on": (), "all-off": FEATURES, **{f"{feature}-off": (feature,) for feature in FEATURES}}
    defaults = default_options()
    return {
        name: off for name, off in candidates.items()
        if not pre_gen.validate({**defaults, **switches(off)})
    }


def default_options() -> dict[str, Any]:
    """cookiecutter.json's defaults as cookiecutter resolves them without prompts (slug derived)."""
    context = generate_context(context_file=str(REPO_ROOT / "cookiecutter.json"))
    resolved = prompt_for_config(context, no_input=True)
    return {key: value for key, value in resolved.items() if not key.startswith("_")}


def render(template: Path, output_dir: Path, **extra_context: str) -> Path:
    """Render the template (no prompts) into output_dir; return the project folder."""
    return Path(cookiecutter(str(template), no_input=True, output_dir=str(output_dir), extra_context=extra_context))


def project_files(root: Path) -> set[str]:
    """Every file under root, as POSIX paths relative to root."""
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def empty_dirs(root: Path) -> list[str]:
    """Folders under root with nothing in them."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_dir() and not any(p.iterdir()))


def subprocess_env(**overrides: str) -> dict[str, str]:
    """The environment for commands run in a generated project.

    Make's own variables are dropped so a `make test VENV=x` of the template does not leak
    VENV into the generated Makefile; this venv's bin goes last on PATH so the generated
    Makefile finds uv (a dev dependency here) when the machine has none.
    """
    env = {key: value for key, value in os.environ.items()
           if key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "VIRTUAL_ENV", "PYTEST_ADDOPTS"}
           and not key.startswith("PYTEST_XDIST")}
    env["PATH"] = f"{env.get('PATH', '')}{os.pathsep}{Path(sys.executable).parent}"
    env.update(overrides)
    return env


def run(command: list[str], cwd: Path, timeout: float = 900, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure the assertion message holds its output."""
    result = subprocess.run(command, cwd=cwd, env=subprocess_env(**env), capture_output=True, text=True,
                            timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"`{' '.join(command)}` in {cwd} exited {result.returncode}\n"
        f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
    )
    return result


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def file_digest(path: Path) -> str:
    """A short content hash, for cache keys."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def is_build_output(path: Path) -> bool:
    """Whether path lies in what building or importing a package writes beside its sources (bytecode, egg-info)."""
    return any(part == "__pycache__" or part.endswith(".egg-info") for part in path.parts)


def tree_digest(root: Path, pattern: str = "*.py") -> str:
    """A short hash of the names and contents of root's source files matching pattern (build output left out).

    An install from the folder writes src/*.egg-info: counted, it would give the next worker another digest.
    """
    digest = hashlib.sha256()
    for path in sorted(found for found in root.rglob(pattern) if found.is_file() and not is_build_output(found)):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on path (created if missing) while the block runs: parallel workers build once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
