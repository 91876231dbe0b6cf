"""`devstack package`: `chalice package` with the resources file merged in, then the fix-ups CloudFormation needs.

    devstack package [--stage dev] [--out dist]

Chalice writes sam.yaml (asked for YAML, the resources file's format) and deployment.zip. Then this
- sets the Stage parameter's default to the packaged stage (chalice passes no parameters; added if absent),
- names every function `<app>-<stage>-<function>` (as `chalice deploy` names it) and its log group after it
  (chalice's own LogGroupName refers to `${ApiHandler}`, which does not exist for the API handler),
- adds the permissions every function needs to its own role: write to its own log group, send X-Ray traces,
- inlines each state machine's DefinitionUri (relative to the project root) as Definition,
  so the template in dist/ is self-contained for `aws cloudformation package`,
- writes dist/sam.json and removes sam.yaml,
- drops from the zip what the Lambda runtime provides (boto3, botocore, s3transfer and what only
  they need) and stray __pycache__ folders,
- adds bytecode for every module, compiled for the functions' runtime (see add_bytecode).
"""

import compileall
import json
import os
import py_compile
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

from chalice_devstack.errors import CommandError
from chalice_devstack.project import Project
from chalice_devstack.tooling.app_loader import function_handlers, load_app

# The Lambda Python runtime ships these (with their own dependencies); bundling a second copy
# only grows the zip and risks two botocores disagreeing.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
# Where Lambda unpacks the zip: the bytecode's file names point there, so tracebacks read as usual.
LAMBDA_TASK_ROOT = "/var/task"
# X-Ray has no resource-level permissions: AWS requires "Resource": "*" for these actions.
XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
# Fn::Sub references, kept out of f-strings (no doubled braces to misread).
STAGE = "${Stage}"
LOG_GROUP_ARN = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"


def chalice_package(project: Project, stage: str, region: str, out: Path) -> None:
    """Run `chalice package` for stage into out, with the stage's environment (so the app imports as deployed)."""
    env = {**os.environ, **project.function_environment(stage)}
    env.setdefault("AWS_DEFAULT_REGION", env.get("AWS_REGION", region))
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice), "package", "--stage", stage, "--template-format", "yaml", str(out)]
    if project.resources_file.exists():
        command[-1:-1] = ["--merge-template", str(project.resources_file)]
    project.resources()  # a broken resources file is one line here, not chalice's traceback
    finished = subprocess.run(command, cwd=project.root, env=env, check=False)  # noqa: S603 - our own argument list
    if finished.returncode != 0:
        raise CommandError(f"chalice package failed (exit {finished.returncode}); its output above says why")


def app_function_names(project: Project, stage: str) -> dict[str, str]:
    """Map each function's CloudFormation name stem (as chalice derives it) to its chalice name."""
    from chalice.utils import to_cfn_resource_name

    return {to_cfn_resource_name(name): name for name in function_handlers(load_app(project, stage))}


def physical_name(app_name: str, function: str) -> dict[str, str]:
    """`<app>-<stage>-<function>` (`chalice deploy`'s name), with the stage left to the Stage parameter."""
    return {"Fn::Sub": f"{app_name}-{STAGE}-{function}"}


def finalize_template(
    template: dict[str, Any], stage: str, app_name: str, names: dict[str, str], project_dir: Path
) -> dict[str, Any]:
    """Apply every packaging fix-up to a chalice-generated template (in place); return it."""
    # Function and log group names use ${Stage}: a project whose resources file declares no Stage gets one.
    template.setdefault("Parameters", {}).setdefault("Stage", {"Type": "String"})["Default"] = stage
    resources = template["Resources"]
    for logical_id, resource in list(resources.items()):
        if resource.get("Type") == "AWS::Serverless::Function":
            _name_function(resources, logical_id, app_name, names)
        elif resource.get("Type") == "AWS::Serverless::StateMachine":
            _inline_definition(resource["Properties"], project_dir)
    return template


def _name_function(resources: dict[str, Any], logical_id: str, app_name: str, names: dict[str, str]) -> None:
    """Give one function its deployed name, a log group named after it, and baseline permissions."""
    properties = resources[logical_id]["Properties"]
    role_id = properties["Role"]["Fn::GetAtt"][0]
    stem = role_id.removesuffix("Role")
    function = names[stem]
    properties["FunctionName"] = physical_name(app_name, function)
    log_group = f"/aws/lambda/{app_name}-{STAGE}-{function}"
    if f"{stem}LogGroup" in resources:
        resources[f"{stem}LogGroup"]["Properties"]["LogGroupName"] = {"Fn::Sub": log_group}
    log_arn = f"{LOG_GROUP_ARN}{log_group}:*"
    statements = resources[role_id]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    statements += [
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": LOG_ACTIONS, "Resource": {"Fn::Sub": log_arn}},
        {"Sid": "XRayTraces", "Effect": "Allow", "Action": XRAY_ACTIONS, "Resource": "*"},
    ]


def _inline_definition(properties: dict[str, Any], project_dir: Path) -> None:
    """Replace a project-relative DefinitionUri by the ASL document itself."""
    uri = properties.get("DefinitionUri")
    if isinstance(uri, str) and not uri.startswith("s3://"):
        properties["Definition"] = json.loads((project_dir / uri).read_text())
        del properties["DefinitionUri"]


def _distribution(entry: str) -> str | None:
    """The distribution a `<name>-<version>.dist-info/...` zip entry belongs to, normalised."""
    match = re.match(r"([^/]+?)-[^-/]+\.dist-info/", entry)
    return match.group(1).lower().replace("_", "-") if match else None


def _requirements(metadata: str) -> set[str]:
    """Names in a METADATA file's unconditional Requires-Dist lines."""
    names = set()
    for line in metadata.splitlines():
        if line.startswith("Requires-Dist:") and "extra ==" not in line:
            name = re.split(r"[ ;<>=!~\[(]", line.removeprefix("Requires-Dist:").strip(), maxsplit=1)[0]
            names.add(name.lower().replace("_", "-"))
    return names


def runtime_only_distributions(archive: zipfile.ZipFile) -> set[str]:
    """RUNTIME_PROVIDED plus every bundled distribution that only they require."""
    requires = {
        dist: _requirements(archive.read(entry).decode())
        for entry in archive.namelist()
        if entry.endswith(".dist-info/METADATA") and (dist := _distribution(entry))
    }
    drop = {dist.replace("_", "-") for dist in RUNTIME_PROVIDED} & requires.keys()
    while True:
        kept = requires.keys() - drop
        needed_by_kept = set().union(*(requires[dist] for dist in kept)) if kept else set()
        orphans = {
            dist for dist in kept if dist not in needed_by_kept and any(dist in requires[dropped] for dropped in drop)
        }
        if not orphans:
            return drop
        drop |= orphans


def _top_level_names(archive: zipfile.ZipFile, distributions: set[str]) -> set[str]:
    """Top-level zip entries (packages, modules, dist-info) that belong to the distributions."""
    names = set()
    for entry in archive.namelist():
        if _distribution(entry) in distributions and entry.endswith("/RECORD"):
            names.add(entry.split("/", 1)[0])
            for line in archive.read(entry).decode().splitlines():
                path = line.split(",", 1)[0]
                if path and not path.startswith(".."):
                    names.add(path.split("/", 1)[0])
    return names


def slim_zip(path: Path) -> list[str]:
    """Rewrite the zip without runtime-provided distributions and __pycache__; return the dropped entries."""
    with zipfile.ZipFile(path) as archive:
        top_level = _top_level_names(archive, runtime_only_distributions(archive))
        keep: list[zipfile.ZipInfo] = []
        dropped: list[zipfile.ZipInfo] = []
        for info in archive.infolist():
            unwanted = info.filename.split("/", 1)[0] in top_level or "__pycache__/" in info.filename
            (dropped if unwanted else keep).append(info)
        slim = path.with_suffix(".slim.zip")
        with zipfile.ZipFile(slim, "w", zipfile.ZIP_DEFLATED) as out:
            for info in keep:
                out.writestr(info, archive.read(info.filename))
    slim.replace(path)
    return [info.filename for info in dropped]


def add_bytecode(path: Path) -> int:
    """Add an unchecked-hash .pyc beside every module in the zip; return how many were added.

    Lambda's file system is read-only, so a zip without bytecode compiles every module it imports
    on every cold start (most of a function's cold start: `devstack bench cold-start --no-bytecode` shows it).
    Unchecked-hash .pyc files are used whatever mtimes unzipping leaves, but only by the Python
    version that wrote them: build() adds them only when that is the functions' runtime.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        with zipfile.ZipFile(path) as archive:
            archive.extractall(root)
        compileall.compile_dir(
            root,
            quiet=2,  # a module that does not compile stays source only, as before
            workers=0,
            stripdir=str(root),
            prependdir=LAMBDA_TASK_ROOT,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
        compiled = sorted(root.rglob("__pycache__/*.pyc"))
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
            for pyc in compiled:
                archive.write(pyc, pyc.relative_to(root).as_posix())
    return len(compiled)


def function_runtimes(template: dict[str, Any]) -> set[str]:
    """The Runtime of every function in a packaged template."""
    return {
        resource["Properties"].get("Runtime", "")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def build(project: Project, stage: str, region: str, out: Path) -> Path:
    """Package the project for stage into out; return the path of the finished template."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("sam.yaml", "sam.json", "deployment.zip"):
        (out / stale).unlink(missing_ok=True)
    chalice_package(project, stage, region, out)
    template = yaml.safe_load((out / "sam.yaml").read_text())
    app_name = project.chalice_config()["app_name"]
    finalize_template(template, stage, app_name, app_function_names(project, stage), project.root)
    target = out / "sam.json"
    target.write_text(json.dumps(template, indent=2, sort_keys=True) + "\n")
    (out / "sam.yaml").unlink()
    slim_zip(out / "deployment.zip")
    this_python, runtimes = f"python{sys.version_info.major}.{sys.version_info.minor}", function_runtimes(template)
    if runtimes == {this_python}:
        add_bytecode(out / "deployment.zip")
    else:  # chalice picks the runtime from this interpreter, so this only happens if config overrides it
        print(f"no bytecode in the zip: the functions run {runtimes}, this is {this_python}")
    return target


def report(template: Path) -> str:
    """Two lines naming what was written: the template (with its resource count) and the zip's size."""
    zip_file = template.with_name("deployment.zip")
    resources = len(json.loads(template.read_text())["Resources"])
    return f"{template} ({resources} resources)\n{zip_file}: {zip_file.stat().st_size / 1_000_000:.1f} MB"
