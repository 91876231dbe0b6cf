"""Copy the template as a clone would have it: files git tracks or would track, no caches.

A developer's ruff/pytest/mypy caches or a venv inside `{{cookiecutter.project}}/` are
ignored by git but not by cookiecutter, which would render them (and choke on binaries).
Rendering from this snapshot is what `cookiecutter gh:org/sls-template` users get.

Usage: python scripts/template_snapshot.py DEST
"""

import shutil
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# What cookiecutter reads from the repo root.
TEMPLATE_PARTS = ("cookiecutter.json", "local_extensions.py", "hooks", "packages", "{{cookiecutter.project}}")
# Used only where git is missing (e.g. an unpacked tarball).
IGNORED_NAMES = ("__pycache__", ".venv", ".pytest_cache", ".ruff_cache", ".mypy_cache", "*.egg-info", "*.pyc")


def git_listed_files(repo: Path) -> list[str] | None:
    """The template's files that git tracks or does not ignore; None without git."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *TEMPLATE_PARTS],
            cwd=repo, check=True, capture_output=True, text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [name for name in listing.split("\0") if name and (repo / name).is_file()]


def snapshot(dest: Path, repo: Path = REPO_ROOT) -> Path:
    """Copy the template's files into dest (emptied first); return dest."""
    shutil.rmtree(dest, ignore_errors=True)
    files = git_listed_files(repo)
    if files is None:
        dest.mkdir(parents=True)
        shutil.copy2(repo / "cookiecutter.json", dest)
        for folder in TEMPLATE_PARTS[1:]:
            shutil.copytree(repo / folder, dest / folder, ignore=shutil.ignore_patterns(*IGNORED_NAMES))
        return dest
    for name in files:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(repo / name, target)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    print(snapshot(Path(sys.argv[1])))
