"""The workshop lessons (docs/workshop) as an attendee follows them: in order, in one shell, on one devstack.

`devstack lessons` runs every marked `sh lesson` block and compares its output with the `text expect`
block after it; the first difference fails this test with the lesson, the block, its commands and
both outputs. Slow (a few minutes: saga retries, DLQ receives, two short load runs): `make test-all`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
LESSONS_TIMEOUT_S = 1200


@pytest.mark.slow
@pytest.mark.lessons
def test_every_lesson_runs_as_written() -> None:
    # Given: the lessons and this venv (the lessons' own `make` commands use it too)
    env = {**os.environ, "VENV": sys.prefix}
    # When: the runner starts a devstack on free ports and follows every lesson in order
    result = subprocess.run(
        [sys.executable, "-m", "chalice_devstack", "lessons", "docs/workshop"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=LESSONS_TIMEOUT_S,
        check=False,
    )
    # Then: every block printed what its lesson promises
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-2000:]
    assert "lessons passed:" in result.stdout
