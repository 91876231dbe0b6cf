"""deployment.zip holds the app and its runtime dependencies only."""

import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

# Every test here walks deployment.zip with its dependencies, downloaded from PyPI: `make check-package` only.
pytestmark = pytest.mark.slow

NEVER_PACKAGED = ["boto3/", "botocore/", "s3transfer/", "chalice_devstack/"]
NEVER_PACKAGED += ["tests/", "scripts/", "infra/", "loadtests/"]


def _dev_only_packages() -> list[str]:
    """Top-level import names of the dev dependencies that are not also runtime dependencies."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    names = [
        spec.split(">")[0].split("[")[0].split("=")[0] for spec in pyproject["project"]["optional-dependencies"]["dev"]
    ]
    return [name.replace("-", "_").replace("pyyaml", "yaml") + "/" for name in names if name != "chalice"]


def test_zip_has_no_runtime_provided_dev_or_project_only_files(
    packaged: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given: the dev stage's deployment package
    path = packaged["dev"] / "deployment.zip"
    names = zipfile.ZipFile(path).namelist()
    with capsys.disabled():
        print(f"\n{path.name}: {path.stat().st_size / 1_000_000:.2f} MB, {len(names)} files")
    # Then: nothing Lambda provides, nothing from tests, scripts or dev tools
    unwanted = [name for name in names if name.startswith(tuple(NEVER_PACKAGED + _dev_only_packages()))]
    assert unwanted == []
    # ...and chalice contributes only its runtime module
    chalice_modules = [name for name in names if name.startswith("chalice/") and "__pycache__" not in name]
    assert sorted(chalice_modules) == ["chalice/__init__.py", "chalice/app.py"]


def test_zip_ships_the_versions_uv_lock_pins(packaged: dict[str, Path]) -> None:
    # Given: the versions uv.lock pins (requirements.txt, which chalice package reads, is its hash-pinned export)
    lock = tomllib.loads((Path(__file__).parents[2] / "uv.lock").read_text())
    locked = {package["name"]: package["version"] for package in lock["package"]}
    # Then: every distribution in the zip is at its locked version
    names = zipfile.ZipFile(packaged["dev"] / "deployment.zip").namelist()
    shipped = dict(
        entry.split("/", 1)[0].removesuffix(".dist-info").rsplit("-", 1) for entry in names if ".dist-info/" in entry
    )
    shipped = {name.lower().replace("_", "-"): version for name, version in shipped.items()}
    assert {"pydantic", "pynamodb"} <= shipped.keys()
    assert {name: version for name, version in shipped.items() if locked.get(name) != version} == {}


def test_zip_holds_the_app_and_its_runtime_dependencies(packaged: dict[str, Path]) -> None:
    names = set(zipfile.ZipFile(packaged["dev"] / "deployment.zip").namelist())
    assert {"app.py", "chalicelib/config.py", "pydantic/__init__.py", "pynamodb/__init__.py"} <= names
    assert "aws_lambda_powertools/__init__.py" in names


def test_every_app_module_ships_bytecode_lambda_uses_as_is(packaged: dict[str, Path]) -> None:
    # Given: the dev stage's deployment package
    archive = zipfile.ZipFile(packaged["dev"] / "deployment.zip")
    names = set(archive.namelist())
    tag = sys.implementation.cache_tag
    # Then: each module of the app has a .pyc for this Python...
    modules = [name for name in names if name.endswith(".py") and name.startswith(("app.py", "chalicelib/"))]
    missing = [name for name in modules if bytecode_path(name, tag) not in names]
    assert modules and missing == []
    # ...that is hash-based and unchecked (flags 0b01), so unzipped mtimes do not matter
    flags = {int.from_bytes(archive.read(bytecode_path(name, tag))[4:8], "little") for name in modules}
    assert flags == {1}


def bytecode_path(module: str, tag: str) -> str:
    """Where the .pyc of a zip entry `pkg/mod.py` lives: `pkg/__pycache__/mod.<tag>.pyc`."""
    folder, _, file = module.rpartition("/")
    return f"{folder + '/' if folder else ''}__pycache__/{file.removesuffix('.py')}.{tag}.pyc"
