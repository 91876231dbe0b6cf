"""Session fixtures: one clean template snapshot and each option combination rendered once per run.

Under pytest-xdist the workers of one run share both (a folder of the run's base temp, built under a
lock by whichever worker asks first), so each combination is rendered once per run, not once per worker.
"""

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.template_snapshot import snapshot
from tests.support import combos, locked, render, switches

Renderer = Callable[[str], Path]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the `ci` tests (minutes each) first, so `make ci`'s workers start the long runs together and end together."""
    items.sort(key=lambda item: item.get_closest_marker("ci") is None)


def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder every xdist worker of this run shares (this process's base temp without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Given: the template as a fresh clone has it (no local caches), copied once per run."""
    root = run_dir(tmp_path_factory) / "template"
    with locked(root / "snapshot.lock"):
        if not (root / "snapshot.done").exists():
            snapshot(root / "sls-template")
            (root / "snapshot.done").touch()
    return root / "sls-template"


def render_once(template_dir: Path, root: Path, name: str) -> Path:
    """Render a combination into root/name unless a worker of this run already did; return the project."""
    done = root / f"{name}.path"
    with locked(root / f"{name}.lock"):
        if not done.exists():
            project = render(template_dir, root / name, **switches(combos()[name]))
            done.write_text(str(project))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def rendered(template_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    """Given: a render of a named combination, made once per run; treat it as read-only."""
    root = run_dir(tmp_path_factory) / "renders"
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = render_once(template_dir, root, name)
        return cache[name]

    return get
