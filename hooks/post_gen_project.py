"""Prune the files of switched-off patterns from the generated service; print next steps.

Cookiecutter runs this inside the generated project. Option values are read as JSON
data inside main(); the raw file stays importable so tests can call the functions.
Content inside shared files (README sections, config entries, resources) is pruned
by Jinja if-blocks in those files; this hook removes whole files only.
"""

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Every file (or folder) that belongs to one optional pattern, as paths or glob
# patterns relative to the project root. The pattern owners keep these lists whole:
# the template tests check that switching a pattern off removes exactly these.
FEATURE_PATHS: dict[str, list[str]] = {
    "orders": [
        "chalicelib/api/orders.py",
        "chalicelib/api/products.py",
        "chalicelib/services/orders.py",
        "chalicelib/services/inventory.py",
        "chalicelib/services/payments.py",
        "chalicelib/db/payments.py",
        "chalicelib/db/orders.py",
        "chalicelib/db/inventory.py",
        "chalicelib/schemas/orders.py",
        "chalicelib/schemas/inventory.py",
        "chalicelib/events/orders_queue.py",
        "chalicelib/saga",
        "tests/**/test_orders*.py",
        "tests/**/test_saga*.py",
        "tests/**/test_inventory*.py",
        "tests/**/test_payments*.py",
        "tests/orders_support.py",
        "scripts/seed.py",
        "scripts/orders_pipeline_bench.py",
        "scripts/order_cpu_floor.py",
        ".chalice/policies/*orders*.json",
        ".chalice/policies/*saga*.json",
        "docs/workshop/02-queue-and-dlq.md",
        "docs/workshop/03-saga.md",
        "docs/workshop/img/console-saga.png",  # lesson 00's picture of the console drawing the saga
        "loadtests/orders_load.py",
    ],
    "uploads": [
        "chalicelib/*/uploads.py",
        "chalicelib/events/uploads_events.py",
        "chalicelib/services/upload_content.py",
        "tests/upload_samples.py",
        "tests/**/test_upload*.py",
        ".chalice/policies/*uploads*.json",
        "docs/workshop/04-s3-events.md",
        "loadtests/uploads_load.py",
    ],
    "stream": [
        "chalicelib/*/activity.py",
        "chalicelib/events/stream.py",
        "tests/**/test_stream*.py",
        "tests/**/test_activity*.py",
        "tests/stream_events.py",
        ".chalice/policies/*stream*.json",
        "docs/workshop/05-streams.md",
    ],
    "schedule": [
        "chalicelib/*/jobs.py",
        "chalicelib/events/schedules.py",
        "tests/**/test_schedule*.py",
        "tests/**/test_jobs*.py",
        ".chalice/policies/*schedule*.json",
        "docs/workshop/06-schedules.md",
    ],
    "auth": [
        "chalicelib/api/auth.py",
        "chalicelib/schemas/auth.py",
        "tests/auth_support.py",
        "tests/**/test_auth*.py",
        "docs/workshop/09-sign-in.md",
    ],
}


# Plumbing that several patterns share, each with the patterns that use it: a path goes
# once every one of them is switched off (an all-off service has no queue consumer, no
# boto3 client and no event handler at all).
SHARED_PATHS: dict[str, tuple[str, ...]] = {
    "chalicelib/events/sqs_batch.py": ("orders", "uploads"),
    "chalicelib/events/__init__.py": ("orders", "uploads", "stream", "schedule"),
    "chalicelib/db/aws.py": ("orders", "uploads", "stream", "schedule"),
    "loadtests/pipeline.py": ("orders", "uploads"),
    # Every queue with a DLQ: orders, upload events, domain events (a stream subscriber).
    "scripts/redrive.py": ("orders", "uploads", "stream"),
    "tests/unit/test_redrive.py": ("orders", "uploads", "stream"),
    # What seed (orders) and redrive share: the stage's env, and one-line errors.
    "scripts/stage_env.py": ("orders", "uploads", "stream"),
    "tests/unit/test_script_errors.py": ("orders", "uploads", "stream"),
    "tests/unit/test_load_pipeline.py": ("orders", "uploads"),
}


# What exists only where several patterns meet, each with the patterns it needs: a path goes as soon as one of
# them is switched off (managing the catalogue is orders' and needs sign-in for its admins).
JOINT_PATHS: dict[str, tuple[str, ...]] = {
    "chalicelib/api/product_admin.py": ("orders", "auth"),
    "tests/integration/test_product_admin.py": ("orders", "auth"),
}


def unused_joint_paths(switches: dict[str, str]) -> list[str]:
    """The joint paths one of whose patterns is switched off."""
    return [path for path, needs in JOINT_PATHS.items() if any(switches[need] == "n" for need in needs)]


def unused_shared_paths(switches: dict[str, str]) -> list[str]:
    """The shared paths whose every user pattern is switched off."""
    return [path for path, users in SHARED_PATHS.items() if all(switches[user] == "n" for user in users)]


def matching_paths(root: Path, patterns: Iterable[str]) -> list[Path]:
    """Return the existing files and folders under root that the patterns name."""
    found = {path for pattern in patterns for path in root.glob(pattern)}
    return sorted(found)


def remove_paths(root: Path, patterns: Iterable[str]) -> list[Path]:
    """Delete what the patterns match under root; return what was deleted."""
    removed = matching_paths(root, patterns)
    for path in removed:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():  # already gone if a matched folder held it
            path.unlink()
    return removed


def remove_orders_files(root: Path) -> list[Path]:
    """Remove the orders pattern: REST orders/products, queue consumer, saga, payments."""
    return remove_paths(root, FEATURE_PATHS["orders"])


def remove_uploads_files(root: Path) -> list[Path]:
    """Remove the uploads pattern: presigned POST and the S3-via-SQS event handler."""
    return remove_paths(root, FEATURE_PATHS["uploads"])


def remove_stream_files(root: Path) -> list[Path]:
    """Remove the DynamoDB stream pattern: activity, counters and domain events."""
    return remove_paths(root, FEATURE_PATHS["stream"])


def remove_schedule_files(root: Path) -> list[Path]:
    """Remove the schedule pattern: sweeps, expiry and the daily report."""
    return remove_paths(root, FEATURE_PATHS["schedule"])


def remove_auth_files(root: Path) -> list[Path]:
    """Remove sign-in: the user pool authorizer, the caller model and their tests and lesson."""
    return remove_paths(root, FEATURE_PATHS["auth"])


REMOVERS: dict[str, Callable[[Path], list[Path]]] = {
    "orders": remove_orders_files,
    "uploads": remove_uploads_files,
    "stream": remove_stream_files,
    "schedule": remove_schedule_files,
    "auth": remove_auth_files,
}


def remove_empty_dirs(root: Path) -> list[Path]:
    """Delete folders under root left empty (deepest first); return them."""
    removed = []
    for folder in sorted((p for p in root.rglob("*") if p.is_dir() and not p.is_symlink()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
            removed.append(folder)
    return removed


def prune(root: Path, switches: dict[str, str]) -> list[Path]:
    """Remove every switched-off feature's files, then empty folders; return what went."""
    removed = [path for feature, remove in REMOVERS.items() if switches[feature] == "n" for path in remove(root)]
    removed += remove_paths(root, unused_shared_paths(switches))
    removed += remove_paths(root, unused_joint_paths(switches))
    return removed + remove_empty_dirs(root)


OPENAPI_DOCUMENT = "openapi.json"
SCHEMA_PREFIX = "#/components/schemas/"


def prune_openapi(root: Path) -> None:
    """Drop the switched-off patterns' operations from the API document, then the schemas nothing uses.

    The template ships the all-on document that `make openapi` writes, with and without sign-in (a generator needs the
    installed app); `devstack openapi` tags each operation with its route module
    (chalicelib/api/<tag>.py), so an operation goes with its module. The generated suite
    checks the result equals what `make openapi` writes for this variant.
    """
    path = root / OPENAPI_DOCUMENT
    document = json.loads(path.read_text())
    for item in document["paths"].values():
        for method in [m for m, op in item.items() if not (root / "chalicelib/api" / f"{op['tags'][0]}.py").exists()]:
            del item[method]
    document["paths"] = {name: item for name, item in document["paths"].items() if item}
    schemas = document["components"]["schemas"]
    used = _schema_refs(document["paths"])
    pending = list(used)
    while pending:
        found = _schema_refs(schemas[pending.pop()]) - used
        used |= found
        pending += found
    document["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _schema_refs(node: object) -> set[str]:
    """The component schema names a node refers to, at any depth."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        own = {ref.removeprefix(SCHEMA_PREFIX)} if isinstance(ref, str) else set()
        return own.union(*(_schema_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_schema_refs(value) for value in node))
    return set()


def next_steps(project: str) -> str:
    """The commands to run after generation."""
    return "\n".join([
        "",
        f"Generated {project}. Next steps:",
        f"  cd {project}",
        "  git init && git add -A   # make lint runs the pre-commit hooks over the files git knows",
        "  make install   # create .venv with the service and dev dependencies (the versions in uv.lock, from PyPI)",
        "  make test      # unit, integration, fast e2e, offline template check (make test-all: every test)",
        "  make dev       # the service offline on devstack; then docs/workshop/00-devstack.md (make help: all)",
        "",
    ])


# What cookiecutter adds to the context for this run only; .cruft.json keeps the template's own keys.
RUN_KEYS = frozenset({"_output_dir", "_repo_dir", "_checkout", "_template", "_commit"})


def template_commit(template_root: Path) -> str | None:
    """HEAD of the template checkout; None unless template_root is the top of a git work tree (a copy, a tarball)."""
    try:
        found = subprocess.run(
            ["git", "-C", str(template_root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, check=True,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        return None
    return found[1] if Path(found[0]).resolve() == template_root.resolve() else None


def template_source(template: str, template_root: Path) -> str:
    """Where cruft clones the template from: the repository URL given (gh: and friends expanded), else the checkout."""
    from cookiecutter.config import BUILTIN_ABBREVIATIONS
    from cookiecutter.repository import expand_abbreviations, is_repo_url

    url = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    return url if is_repo_url(url) else str(template_root.resolve())


def cruft_state(context: dict[str, Any], template: str, commit: str) -> dict[str, Any]:
    """.cruft.json as `cruft create` writes it: the template, its commit, and the answers `cruft update` re-renders."""
    answers = {key: value for key, value in context.items() if key not in RUN_KEYS}
    return {
        "template": template,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": {**answers, "_template": template, "_commit": commit}},
        "directory": None,
    }


def write_cruft_file(project_root: Path, context: dict[str, Any], template_root: Path) -> Path | None:
    """Record where the service came from for `cruft check` / `cruft update`; the file written, if any.

    Nothing is written when the template is not a git checkout (no commit to compare later ones with). main()
    does not call this when cruft itself renders (its context has _commit): cruft writes .cruft.json itself.
    """
    commit = template_commit(template_root)
    if commit is None:
        return None
    state = cruft_state(context, template_source(context["_template"], template_root), commit)
    path = project_root / ".cruft.json"
    path.write_text(json.dumps(state, ensure_ascii=False, indent=2, separators=(",", ": ")) + "\n")  # as cruft does
    return path


# Secrets drawn afresh at every render (random_ascii_string). cruft update diffs two renders of its own, where a
# fresh value in each would read as a template change and clash with the service's own value: in cruft's renders
# they get one fixed placeholder instead, so the diff leaves them alone.
PER_RENDER_SECRETS = {".chalice/config.json": re.compile(r'("CURSOR_SIGNING_KEY": )"[^"]*"')}


def hold_per_render_secrets(project_root: Path) -> None:
    """Replace every per-render secret with one fixed placeholder (in cruft's own renders only)."""
    for name, secret in PER_RENDER_SECRETS.items():
        path = project_root / name
        path.write_text(secret.sub(r'\1"generated-with-the-service"', path.read_text()))


def main() -> int:
    """Prune switched-off patterns in the current (generated) folder and print next steps."""
    project = json.loads(r'''{{ cookiecutter.project | tojson }}''')
    switches = {
        "orders": json.loads(r'''{{ cookiecutter.include_orders | tojson }}'''),
        "uploads": json.loads(r'''{{ cookiecutter.include_uploads | tojson }}'''),
        "stream": json.loads(r'''{{ cookiecutter.include_stream | tojson }}'''),
        "schedule": json.loads(r'''{{ cookiecutter.include_schedule | tojson }}'''),
        "auth": json.loads(r'''{{ cookiecutter.include_auth | tojson }}'''),
    }
    prune(Path.cwd(), switches)
    prune_openapi(Path.cwd())
    context = json.loads(r'''{{ cookiecutter | tojson }}''')
    if "_commit" in context:  # cruft renders to diff two template commits
        hold_per_render_secrets(Path.cwd())
    elif write_cruft_file(Path.cwd(), context, Path(json.loads(r'''{{ template_root() | tojson }}'''))) is None:
        print("No .cruft.json: the template is not a git checkout, so there is no commit to update from.")
    print(next_steps(project))
    return 0


if __name__ == "__main__":
    sys.exit(main())
