"""Session fixtures: one clean template snapshot, each option combination rendered once."""

from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.template_snapshot import snapshot
from tests.support import combos, render, switches

Renderer = Callable[[str], Path]


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Given: the template as a fresh clone has it (no local caches)."""
    return snapshot(tmp_path_factory.mktemp("template") / "sls-template")


@pytest.fixture(scope="session")
def rendered(template_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    """Given: a render of a named combination, made once per session; treat it as read-only."""
    cache: dict[str, Path] = {}
    supported = combos()

    def get(name: str) -> Path:
        if name not in cache:
            cache[name] = render(template_dir, tmp_path_factory.mktemp(name), **switches(supported[name]))
        return cache[name]

    return get
