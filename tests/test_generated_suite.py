"""Run the generated service's own `make lint` / `make test` (and, in CI, `make test-all` and a fresh `make install`).

`make test` of the template runs the fast path of the all-on and all-off services; the tests marked
`ci` (minutes each) run in `make ci`, which CI runs.
"""

import hashlib
import json
import os
import re
import shutil
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest

from scripts.demo_walk import steps_for
from tests.conftest import Renderer
from tests.support import CACHE_DIR, REPO_ROOT, file_digest, free_port, locked, render, run, tree_digest

pytestmark = pytest.mark.slow
SUITE_COMBOS = ("all-on", "all-off")
STAMP = ".installed"  # what the generated Makefile touches when its venv is complete


# The generated Makefile's install rule: its recipe up to the next blank line.
INSTALL_RULE = re.compile(r"^\$\(VENV\)/\.installed:.*?\n\n", re.MULTILINE | re.DOTALL)


def short_hash(text: str) -> str:
    """16 hex digits of text's SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def install_digest(project: Path) -> str:
    """A short hash of what the project's `make install` reads: its install rule, pyproject's tables, the lock.

    The service installs no code of its own (`packages = []`), so the combinations share a venv while
    their dependencies and install recipe agree.
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    tables = {key: pyproject["project"].get(key) for key in ("name", "requires-python", "dependencies")}
    tables |= {"extras": pyproject["project"].get("optional-dependencies"), "build": pyproject.get("build-system")}
    rule = INSTALL_RULE.search((project / "Makefile").read_text())
    assert rule, "the generated Makefile has no $(VENV)/.installed rule"
    locked = "".join(file_digest(project / name) for name in ("uv.lock", "requirements-dev.txt"))
    return short_hash(json.dumps(tables, sort_keys=True) + rule.group(0) + locked)


def devstack_digest(devstack: Path) -> str:
    """A short hash of what an install of chalice-devstack takes from its folder: its sources and pyproject.toml."""
    return short_hash(tree_digest(devstack / "src", "*") + file_digest(devstack / "pyproject.toml"))


def shared_venv(project: Path, devstack: Path) -> Path:
    """The service venv for this project's dependencies and this chalice-devstack, built once and reused.

    Keyed by what the install reads (install_digest) and by the chalice-devstack copy it installs (the
    run's template snapshot, by path, not editable), so a dependency or devstack change builds a new one
    and a checkout edited mid-run does not. A lock keeps parallel workers from building it twice.
    """
    venv = CACHE_DIR / f"service-venv-{install_digest(project)}-{devstack_digest(devstack)}"
    with locked(CACHE_DIR / f"{venv.name}.lock"):
        if not (venv / STAMP).exists():
            run(["make", "install", f"VENV={venv}"], cwd=project)
    return venv


# What the service Makefile's install stamp depends on.
INSTALL_INPUTS = ("pyproject.toml", "uv.lock", "requirements-dev.txt")


def use_venv(project: Path, venv: Path) -> None:
    """Date the files the venv's stamp depends on a second before the stamp, so make does not reinstall.

    In nanoseconds and a second early: a float mtime can round to just after the stamp, and a make that
    reinstalls the shared venv (uv sync takes chalice-devstack out first) breaks every test using it.
    """
    older = (venv / STAMP).stat().st_mtime_ns - 1_000_000_000
    for name in INSTALL_INPUTS:
        os.utime(project / name, ns=(older, older))


class Service(NamedTuple):
    """A rendered service ready to run: its folder, the venv it uses and the combination it renders."""

    project: Path
    venv: Path
    combo: str

    def mypy_cache(self) -> str:
        """A mypy cache kept across runs for this combination and venv: mypy rechecks only what changed."""
        return str(CACHE_DIR / f"mypy-{self.combo}-{self.venv.name.removeprefix('service-venv-')}")


@pytest.fixture(params=SUITE_COMBOS)
def service(request: pytest.FixtureRequest, rendered: Renderer, template_dir: Path, tmp_path: Path) -> Service:
    """Given: a private copy of the run's render (the suite writes caches into it) and the shared venv for it."""
    source = rendered(request.param)
    project = Path(shutil.copytree(source, tmp_path / source.name, symlinks=True))
    venv = shared_venv(project, template_dir / "packages" / "chalice-devstack")
    use_venv(project, venv)
    return Service(project, venv, request.param)


def runs_its_fast_path(request: pytest.FixtureRequest, combo: str) -> bool:
    """Whether this run also runs the combination's `make test` (test_generated_tests_pass: make test, not make ci)."""
    return any(
        getattr(item, "originalname", "") == test_generated_tests_pass.__name__
        and item.callspec.params.get("service") == combo  # type: ignore[attr-defined]
        for item in request.session.items
    )


def test_generated_lint_is_clean(service: Service, request: pytest.FixtureRequest) -> None:
    """Given a rendered service in a git repository, when its `make lint` runs (pre-commit hooks), then it passes.

    Its cfn-lint hook is `make check-template`, which the combination's `make test` runs too: when this run
    has that test (make test), the hook is skipped here (pre-commit's SKIP); in make ci it runs."""
    for step in (["init", "-q"], ["add", "-A"]):  # pre-commit checks the files git knows
        run(["git", *step], cwd=service.project)
    skip = "cfn-lint" if runs_its_fast_path(request, service.combo) else ""
    run(["make", "lint", f"VENV={service.venv}"], cwd=service.project, MYPY_CACHE_DIR=service.mypy_cache(), SKIP=skip)


@pytest.mark.fast_path
def test_generated_tests_pass(service: Service) -> None:
    """Given a rendered service, when its `make test` (the fast path) runs, then its tests run and pass."""
    result = run(["make", "test", f"VENV={service.venv}"], cwd=service.project)
    assert " passed" in result.stdout and " failed" not in result.stdout, result.stdout[-2000:]


@pytest.mark.ci
def test_generated_full_suite_passes(service: Service) -> None:
    """Given a rendered service, when its `make test-all` runs (slow e2e, both stages packaged), then all pass.

    The lessons test (marked `lessons`) is left to test_lessons.py, a `ci` test of its own, so CI's two
    workers share the longest runs instead of one worker running them back to back."""
    result = run(["make", "test-all", "E2E_MARK=not lessons", f"VENV={service.venv}"], cwd=service.project)
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


def test_every_module_imports_in_the_service_venv(service: Service) -> None:
    """Given a rendered service and its venv, when the app and every chalicelib module are imported, then all load."""
    result = run([str(service.venv / "bin" / "python"), "-c", IMPORT_EVERYTHING], cwd=service.project)
    assert "/users" in json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.ci
def test_fresh_install_has_every_dependency(template_dir: Path, tmp_path: Path) -> None:
    """Given a new render, when its own `make install` builds .venv with pip, then the app and all modules import.

    pip (UV= empty) is what a machine without uv gets; with it a dependency missing from
    pyproject.toml fails here rather than on a user's laptop. CI only (`make ci`): a pip install of the
    hash-pinned export from scratch takes minutes, and the fast path keeps the uv-built venv's import check.
    """
    project = render(template_dir, tmp_path)
    install = run(["make", "install", "UV="], cwd=project, timeout=1800)
    assert "with pip" in install.stderr
    # Then: chalice-devstack came from this template checkout by path (no index asked), and its command runs
    assert f"chalice-devstack 0.1.0 (from {template_dir.resolve()}/packages/chalice-devstack)" in install.stderr
    assert not (project / "devstack").exists()
    assert "invoke" in run([str(project / ".venv" / "bin" / "devstack"), "--help"], cwd=project).stdout
    result = run([str(project / ".venv" / "bin" / "python"), "-c", IMPORT_EVERYTHING], cwd=project)
    assert "/users" in json.loads(result.stdout.strip().splitlines()[-1])


# The all-on walk (every pattern on its devstack, signed in) goes to `make ci`: its API and patterns are the e2e
# tests' of `make test`; the all-off walk keeps the live walk's runner in the fast path.
@pytest.mark.parametrize("service", [pytest.param("all-on", marks=pytest.mark.ci), "all-off"], indirect=True)
def test_demo_walk_answers_as_expected(service: Service) -> None:
    """Given a rendered service, when the demo walk runs in it, then every step gets its expected status."""
    # Free ports: the walk must not collide with a devstack the developer runs, or the other combination's.
    walk = [str(service.venv / "bin" / "python"), str(REPO_ROOT / "scripts" / "demo_walk.py")]
    result = run(walk, cwd=service.project, DEVSTACK_AWS_PORT=str(free_port()), DEVSTACK_API_PORT=str(free_port()))
    assert f"All {len(steps_for(service.project))} steps answered as expected." in result.stdout
