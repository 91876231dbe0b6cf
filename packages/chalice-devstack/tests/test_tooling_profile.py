"""The request profiler puts each sample's time in the right code group and its figures add up."""

from pathlib import Path

import pytest

from chalice_devstack.tooling.profile import GROUPS, file_group, sample_group

ROOT = Path("/work/catalog")
SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11/json/decoder.py"
PROJECT = f"{ROOT}/chalicelib/routing.py"
MOTO = f"{SITE}/moto/core/responses.py"


@pytest.mark.parametrize(
    ("path", "group"),
    [
        (PROJECT, "project"),
        (f"{ROOT}/app.py", "project"),
        (MOTO, "moto"),
        (f"{SITE}/boto3/session.py", "aws sdk"),
        (f"{SITE}/botocore/client.py", "aws sdk"),
        (f"{SITE}/pynamodb/models.py", "aws sdk"),
        (f"{SITE}/chalice/app.py", "chalice"),
        (f"{SITE}/aws_lambda_powertools/logging/logger.py", "powertools"),
        (f"{SITE}/pydantic/main.py", "pydantic"),
        (f"{SITE}/pydantic_settings/main.py", "pydantic"),
        (f"{ROOT}/.venv/lib/python3.11/site-packages/moto/core/utils.py", "moto"),
        (f"{SITE}/werkzeug/wrappers/request.py", None),
        (f"{SITE}/xmltodict.py", None),
        (STDLIB, None),
        (f"{SITE}/chalice_devstack/provision.py", None),
    ],
)
def test_a_file_belongs_to_its_package_group(path: str, group: str | None) -> None:
    """Given a frame's file, when classified, then it lands in its package's group (None: counts for its caller)."""
    assert file_group(path, ROOT) == group


@pytest.mark.parametrize(
    ("stack", "group"),
    [
        ([f"{SITE}/chalice/test.py", MOTO, f"{SITE}/werkzeug/datastructures.py", STDLIB], "moto"),
        ([f"{SITE}/chalice/test.py", MOTO, f"{SITE}/responses/__init__.py"], "moto"),
        ([MOTO, f"{SITE}/botocore/parsers.py", STDLIB], "aws sdk"),
        ([f"{SITE}/chalice/app.py", PROJECT, STDLIB], "project"),
        ([f"{SITE}/chalice_devstack/tooling/profile.py", STDLIB], "other"),
    ],
)
def test_a_sample_counts_for_its_innermost_grouped_frame(stack: list[str], group: str) -> None:
    """Given a sample's stack (root first), when classified, then the innermost frame with a group decides."""
    assert sample_group(stack, ROOT) == group


def test_every_group_is_named_once() -> None:
    """Given the groups, then `other` closes the list and no group repeats."""
    assert GROUPS[-1] == "other" and len(set(GROUPS)) == len(GROUPS)
