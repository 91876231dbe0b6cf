"""Re-lock the generated service: render it, run its `make lock`, copy uv.lock and the exports back into the template.

The service's dependencies do not vary by option, so one lock serves every combination; only the project's
own name in it is templated. Without --upgrade the versions already locked are kept (uv changes only what
pyproject.toml's ranges no longer allow), so the lock follows a pyproject edit with the smallest change.

Usage: python -m scripts.lock_service [--upgrade]
"""

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.template_snapshot import snapshot

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVICE_DIR = REPO_ROOT / "{{cookiecutter.project}}"
# What `make lock` writes in the service; each is copied back with the project's name templated (in uv.lock,
# the project's own entry; the exports leave out the `# via` notes, whose order would follow the name).
LOCKED_FILES = ("uv.lock", "requirements.txt", "requirements-dev.txt", "requirements-load.txt")
PROJECT_VARIABLE = "{{ cookiecutter.project }}"


def templated(text: str, project: str) -> str:
    """text with the rendered project's name (as a whole name, never part of another) put back as the variable."""
    name = re.compile(rf"(?<![\w.-]){re.escape(project)}(?![\w.-])")
    return name.sub(PROJECT_VARIABLE, text)


def relock(upgrade: bool) -> None:
    """Render the default service, lock and export it there, and copy the results back into the template."""
    from cookiecutter.main import cookiecutter

    with tempfile.TemporaryDirectory() as scratch:
        template = snapshot(Path(scratch) / "template")
        project = Path(cookiecutter(str(template), no_input=True, output_dir=str(Path(scratch) / "out")))
        uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
        command = ["make", "--no-print-directory", "lock", f"UV={uv}", *(["UPGRADE=1"] if upgrade else [])]
        subprocess.run(command, cwd=project, check=True)
        for name in LOCKED_FILES:
            (SERVICE_DIR / name).write_text(templated((project / name).read_text(), project.name))
    print(f"re-locked {', '.join(LOCKED_FILES)} in {SERVICE_DIR.name}/")


def main() -> int:
    """Parse the flags and re-lock."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="take the newest versions pyproject.toml allows")
    relock(parser.parse_args().upgrade)
    return 0


if __name__ == "__main__":
    sys.exit(main())
