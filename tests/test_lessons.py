"""The workshop lessons of a partial render, run as an attendee follows them (`make lessons`).

The all-on and all-off services run all their lessons in their own `make test-all` (the generated
tests/e2e/test_workshop_lessons.py, which test_generated_suite's `ci` test runs). Here: orders-off,
where the lessons that name orders take their other branch (00's schedule, 05's counters and fan-out,
06's report), reusing the cached service venv. CI only: minutes, like the other `make test-all` runs.
"""

import shutil
from pathlib import Path

import pytest

from tests.conftest import Renderer
from tests.support import run
from tests.test_generated_suite import shared_venv, use_venv

pytestmark = [pytest.mark.slow, pytest.mark.ci]
COMBO = "orders-off"
# The lessons whose text depends on the switches; the rest read the same in every render that has them.
LESSONS = ("00-devstack.md", "05-streams.md", "06-schedules.md")


def test_lessons_of_a_partial_render_run_as_written(rendered: Renderer, template_dir: Path, tmp_path: Path) -> None:
    """Given an orders-off render, when its lessons run on a fresh devstack, then each block prints what it promises."""
    source = rendered(COMBO)
    project = Path(shutil.copytree(source, tmp_path / source.name, symlinks=True))
    venv = shared_venv(project, template_dir / "packages" / "chalice-devstack")
    use_venv(project, venv)
    # As `make lessons` does (lessons: install), so no lesson's `make` waits on an install.
    run(["make", "-s", "install", f"VENV={venv}"], cwd=project)
    lessons = [f"docs/workshop/{name}" for name in LESSONS]
    assert all((project / lesson).is_file() for lesson in lessons), sorted((project / "docs/workshop").iterdir())
    result = run([str(venv / "bin" / "devstack"), "lessons", *lessons], cwd=project, timeout=900, VENV=str(venv))
    assert f"lessons passed: {len(LESSONS)} files" in result.stdout, result.stdout[-4000:]
