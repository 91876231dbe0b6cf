"""openapi.json is the API's contract: what `make openapi` writes from the routes and their schemas."""

import json

from chalice_devstack.tooling.openapi import build, project_version
from openapi_spec_validator import validate

from app import app
from tests.conftest import PROJECT

DOCUMENT = PROJECT.root / "openapi.json"


def test_openapi_json_is_current() -> None:
    # Given: the committed document; When: the app's routes and schemas are documented afresh
    current = build(app, project_version(PROJECT.root))
    # Then: they are the same (a route or schema changed without `make openapi` fails here)
    assert json.loads(DOCUMENT.read_text()) == current, "openapi.json is stale: run `make openapi` and commit it"


def test_openapi_json_is_valid_openapi_3_1() -> None:
    # Given: the committed document; Then: a standard validator accepts it
    document = json.loads(DOCUMENT.read_text())
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_operation_answers_errors_in_the_error_shape() -> None:
    # Given: the document; Then: every operation documents its 500 with the one error body
    document = json.loads(DOCUMENT.read_text())
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert operations
    for operation in operations:
        error = operation["responses"]["500"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorResponse"}, operation["operationId"]
