"""Contract fuzzing: schemathesis sends requests generated from openapi.json to the devstack API and checks
every answer against the document (no server error, documented status, headers and body schema)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from chalice_devstack.testing import Devstack{% if cookiecutter.include_auth == 'y' %}, cognito_token{% endif %}

{% if cookiecutter.include_auth == 'y' %}from chalicelib.schemas.auth import ADMIN_GROUP
{% endif %}from tests.conftest import PROJECT

# Examples per operation and phase (schemathesis' default is 100): bounded so the run takes a minute,
# and seeded so a failure reproduces; schemathesis.toml holds the checks' settings and hooks.
MAX_EXAMPLES = 5
SEED = 1


@pytest.mark.slow
def test_the_api_keeps_its_openapi_contract(devstack: Devstack, tmp_path: Path) -> None:
    # Given: the devstack API and the committed document
    report = tmp_path / "schemathesis.json"
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", "schemathesis.toml", "--no-color"),
        *("run", "openapi.json", "--url", devstack.api_url),
        *("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED)),
        *("--report", "json", "--report-json-path", str(report)),
{%- if cookiecutter.include_auth == 'y' %}
        # An admin's token: every operation answers past the authorizer (admin routes too); the
        # missing and bad token cases are tests/e2e/test_auth_e2e.py's.
        *("--header", f"Authorization: {cognito_token(devstack, 'fuzzer', [ADMIN_GROUP])}"),
{%- endif %}
    ]
    # When: schemathesis runs every operation
    run = subprocess.run(command, cwd=PROJECT.root, capture_output=True, text=True, check=False, timeout=900)
    # Then: every operation was tested and no answer broke the document
    result = json.loads(report.read_text())
    figures = {"operations": result["operations"]["tested"], **result["test_cases"], "failures": result["failures"]}
    print(f"schemathesis: {json.dumps(figures)}")
    documented = json.loads((PROJECT.root / "openapi.json").read_text())["paths"]
    assert result["operations"]["tested"] == sum(len(item) for item in documented.values()), run.stdout
    assert (result["failures"], result["errors"]) == ([], []), run.stdout[-6000:]
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
