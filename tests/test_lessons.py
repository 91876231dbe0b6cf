"""The workshop lessons of a render, run as an attendee follows them (`make lessons`).

All-on and all-off run every lesson (their `make test-all` in test_generated_suite leaves the
generated lessons test out, so the two long runs land on different workers); orders-off runs the
lessons that name orders and so take their other branch (00's schedule, 05's counters and fan-out,
06's report). Each reuses the cached service venv. CI only: minutes, like the `make test-all` runs.
"""

import shutil
from pathlib import Path

import pytest

from tests.conftest import Renderer
from tests.support import run
from tests.test_generated_suite import shared_venv, use_venv

pytestmark = [pytest.mark.slow, pytest.mark.ci]
# Per combination, the lessons run (None: all of docs/workshop). For orders-off, the lessons whose text
# depends on the switches; the rest read the same in every render that has them.
LESSONS: dict[str, tuple[str, ...] | None] = {
    "all-on": None,
    "all-off": None,
    "orders-off": ("00-devstack.md", "05-streams.md", "06-schedules.md"),
}


@pytest.mark.parametrize("combo", LESSONS)
def test_lessons_run_as_written(rendered: Renderer, template_dir: Path, tmp_path: Path, combo: str) -> None:
    """Given a render, when its lessons run on a fresh devstack, then each block prints what it promises."""
    source = rendered(combo)
    project = Path(shutil.copytree(source, tmp_path / source.name, symlinks=True))
    venv = shared_venv(project, template_dir / "packages" / "chalice-devstack")
    use_venv(project, venv)
    # As `make lessons` does (lessons: install), so no lesson's `make` waits on an install.
    run(["make", "-s", "install", f"VENV={venv}"], cwd=project)
    names = LESSONS[combo] or sorted(path.name for path in (project / "docs/workshop").glob("*.md"))
    lessons = [f"docs/workshop/{name}" for name in names]
    assert all((project / lesson).is_file() for lesson in lessons), sorted((project / "docs/workshop").iterdir())
    result = run([str(venv / "bin" / "devstack"), "lessons", *lessons], cwd=project, timeout=1200, VENV=str(venv))
    assert f"lessons passed: {len(lessons)} files" in result.stdout, result.stdout[-4000:]
