"""The request profiler puts each sample's time in the right code group and prints every group."""

import re

import pytest

from devstack.project import PROJECT_DIR
from scripts.profile_request import GROUPS, REQUESTS, file_group, main, sample_group

SITE = "/venv/lib/python3.11/site-packages"
STDLIB = "/usr/lib/python3.11/json/decoder.py"
SERVICE = f"{PROJECT_DIR}/chalicelib/api/routing.py"
MOTO = f"{SITE}/moto/core/responses.py"
TABLE_ROW = re.compile(r"  (\S.*?)\s+[\d.]+\s+([\d.]+)%$")


@pytest.mark.parametrize(
    ("path", "group"),
    [
        (SERVICE, "service"),
        (f"{PROJECT_DIR}/app.py", "service"),
        (MOTO, "moto"),
        (f"{SITE}/boto3/session.py", "aws sdk"),
        (f"{SITE}/botocore/client.py", "aws sdk"),
        (f"{SITE}/pynamodb/models.py", "aws sdk"),
        (f"{SITE}/chalice/app.py", "chalice"),
        (f"{SITE}/aws_lambda_powertools/logging/logger.py", "powertools"),
        (f"{SITE}/pydantic/main.py", "pydantic"),
        (f"{SITE}/pydantic_settings/main.py", "pydantic"),
        (f"{PROJECT_DIR}/.venv/lib/python3.11/site-packages/moto/core/utils.py", "moto"),
        (f"{SITE}/werkzeug/wrappers/request.py", None),
        (f"{SITE}/xmltodict.py", None),
        (STDLIB, None),
        (f"{PROJECT_DIR}/devstack/provision.py", None),
    ],
)
def test_a_file_belongs_to_its_package_group(path: str, group: str | None) -> None:
    """Given a frame's file, when classified, then it lands in its package's group (None: counts for its caller)."""
    assert file_group(path) == group


@pytest.mark.parametrize(
    ("stack", "group"),
    [
        ([f"{SITE}/chalice/test.py", MOTO, f"{SITE}/werkzeug/datastructures.py", STDLIB], "moto"),
        ([f"{SITE}/chalice/test.py", MOTO, f"{SITE}/responses/__init__.py"], "moto"),
        ([MOTO, f"{SITE}/botocore/parsers.py", STDLIB], "aws sdk"),
        ([f"{SITE}/chalice/app.py", SERVICE, STDLIB], "service"),
        ([f"{PROJECT_DIR}/scripts/profile_request.py", STDLIB], "other"),
    ],
)
def test_a_sample_counts_for_its_innermost_grouped_frame(stack: list[str], group: str) -> None:
    """Given a sample's stack (root first), when classified, then the innermost frame with a group decides."""
    assert sample_group(stack) == group


@pytest.mark.parametrize("path", sorted(REQUESTS))
def test_the_table_names_every_group_and_shares_add_up(path: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Given a few requests of a route, when profiled, then every group has a row and the shares sum to 100%."""
    assert main(["--requests", "5", "--path", path]) == 0
    matches = [TABLE_ROW.match(line) for line in capsys.readouterr().out.splitlines()]
    rows = {match[1]: float(match[2]) for match in matches if match}
    assert list(rows) == list(GROUPS)
    assert sum(rows.values()) == pytest.approx(100, abs=0.5)
