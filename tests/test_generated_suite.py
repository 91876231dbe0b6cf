"""Run the generated service's own `make lint` / `make test`, and its `make install` from scratch."""

import fcntl
import json
import os
from pathlib import Path

import pytest

from scripts.demo_walk import STEPS
from tests.support import CACHE_DIR, REPO_ROOT, combos, file_digest, free_port, render, run, switches, tree_digest

pytestmark = pytest.mark.slow
SUITE_COMBOS = ("all-on", "all-off")
STAMP = ".installed"  # what the generated Makefile touches when its venv is complete


def shared_venv(project: Path) -> Path:
    """The service venv for this project's pyproject.toml, built once and reused across runs.

    Keyed by the pyproject's content and chalice-devstack's sources (installed by path, not
    editable), so a dependency or devstack change builds a new one. A lock keeps parallel
    test workers from building the same venv twice.
    """
    CACHE_DIR.mkdir(exist_ok=True)
    devstack = tree_digest(REPO_ROOT / "packages" / "chalice-devstack" / "src", "*")
    venv = CACHE_DIR / f"service-venv-{file_digest(project / 'pyproject.toml')}-{devstack}"
    with (CACHE_DIR / f"{venv.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (venv / STAMP).exists():
            run(["make", "install", f"VENV={venv}"], cwd=project)
    return venv


def use_venv(project: Path, venv: Path) -> None:
    """Date the project's pyproject.toml like the venv's stamp, so make does not reinstall."""
    stamp_time = (venv / STAMP).stat().st_mtime
    os.utime(project / "pyproject.toml", (stamp_time, stamp_time))


@pytest.fixture(params=SUITE_COMBOS)
def service(request: pytest.FixtureRequest, template_dir: Path, tmp_path: Path) -> tuple[Path, Path]:
    """Given: a private render (the suite writes caches into it) and the shared venv for it."""
    project = render(template_dir, tmp_path, **switches(combos()[request.param]))
    venv = shared_venv(project)
    use_venv(project, venv)
    return project, venv


def test_generated_lint_is_clean(service: tuple[Path, Path]) -> None:
    """Given a rendered service, when its `make lint` runs (ruff + mypy), then it passes."""
    project, venv = service
    run(["make", "lint", f"VENV={venv}"], cwd=project)


def test_generated_tests_pass(service: tuple[Path, Path]) -> None:
    """Given a rendered service, when its `make test` runs, then its tests run and pass."""
    project, venv = service
    result = run(["make", "test", f"VENV={venv}"], cwd=project)
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-2000:]


IMPORT_EVERYTHING = """
import importlib, json, os, pkgutil
config = json.load(open(".chalice/config.json"))
os.environ.update(config.get("environment_variables", {}))
os.environ.update(config["stages"]["dev"].get("environment_variables", {}))
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
import app
import chalicelib
for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
    importlib.import_module(module.name)
print(json.dumps(sorted(app.app.routes)))
"""


def test_fresh_install_has_every_dependency(template_dir: Path, tmp_path: Path) -> None:
    """Given a new render, when its own `make install` builds .venv with pip, then the app and all modules import.

    pip (UV= empty) is what a machine without uv gets; with it a dependency missing from
    pyproject.toml fails here rather than on a user's laptop.
    """
    project = render(template_dir, tmp_path)
    install = run(["make", "install", "UV="], cwd=project)
    assert "with pip" in install.stdout
    # Then: chalice-devstack came from this template checkout by path (no index asked), and its command runs
    assert f"chalice-devstack 0.1.0 (from {template_dir.resolve()}/packages/chalice-devstack)" in install.stdout
    assert not (project / "devstack").exists()
    assert "invoke" in run([str(project / ".venv" / "bin" / "devstack"), "--help"], cwd=project).stdout
    result = run([str(project / ".venv" / "bin" / "python"), "-c", IMPORT_EVERYTHING], cwd=project)
    assert "/users" in json.loads(result.stdout.strip().splitlines()[-1])


def test_demo_walk_answers_as_expected(service: tuple[Path, Path]) -> None:
    """Given a rendered service, when the demo walk runs in it, then every step gets its expected status."""
    project, venv = service
    # Free ports: the walk must not collide with a devstack the developer runs, or the other combination's.
    walk = [str(venv / "bin" / "python"), str(REPO_ROOT / "scripts" / "demo_walk.py")]
    result = run(walk, cwd=project, DEVSTACK_AWS_PORT=str(free_port()), DEVSTACK_API_PORT=str(free_port()))
    assert f"All {len(STEPS)} steps answered as expected." in result.stdout
