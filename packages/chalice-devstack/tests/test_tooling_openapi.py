"""`devstack openapi`: the document of a Chalice app's routes and the models its views declare."""

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from chalice.app import Chalice
from openapi_spec_validator import validate
from pydantic import BaseModel, Field

from chalice_devstack.tooling.openapi import build, render
from tests.conftest import APPS_DIR


class Tag(BaseModel):
    """A label."""

    name: str = Field(min_length=1)


class NoteCreate(BaseModel):
    """Body of POST /notes."""

    text: str = Field(max_length=10)
    tags: list[Tag] = []


class Note(BaseModel):
    """A note."""

    id: str
    text: str
    tags: list[Tag]


class Problem(BaseModel):
    """An error."""

    message: str


class Listing(BaseModel):
    """?limit&cursor."""

    limit: int = Field(default=10, ge=1, le=100)
    cursor: str | None = None


class Retry(BaseModel):
    """The retry header."""

    key: str | None = Field(default=None, alias="Idempotency-Key", pattern=r"^\S+$")


class NoteId(BaseModel):
    """The path of one note."""

    note_id: str = Field(pattern=r"^n[0-9]+$")


class Unused(BaseModel):
    """Declared by no route."""

    x: int


def declares(**contract: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """What a project's route decorator does: set the view's openapi mapping."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        view.openapi = contract  # type: ignore[attr-defined]
        return view

    return mark


def notes_app() -> Chalice:
    """A small app: a body with a nested model, a query, a header, path parameters and an undeclared route."""
    app = Chalice(app_name="notes")

    @app.route("/notes", methods=["POST"])
    @declares(
        body=NoteCreate,
        headers=Retry,
        responses={201: Note, 422: Problem},
        response_headers={201: {"Location": "the new note"}},
    )
    def create_note() -> None:
        """Create a note.

        Retry with the same Idempotency-Key.
        """

    @app.route("/notes", methods=["GET"])
    @declares(query=Listing, responses={200: Note})
    def list_notes() -> None:
        """List notes."""

    @app.route("/notes/{note_id}", methods=["DELETE"], api_key_required=True)
    @declares(path=NoteId, responses={204: None, 404: Problem})
    def delete_note(note_id: str) -> None:
        """Delete a note."""

    @app.route("/files/{path+}", methods=["GET"])
    def get_file(path: str) -> None:
        """Read a file."""

    return app


def test_declared_models_become_bodies_parameters_and_responses() -> None:
    # Given: an app whose views declare their models
    # When: its document is built
    document = build(notes_app(), "1.2.3")
    # Then: it is valid OpenAPI 3.1 with each declared piece where it belongs
    validate(document)
    assert document["info"] == {"title": "notes", "version": "1.2.3"}
    create = document["paths"]["/notes"]["post"]
    assert create["summary"] == "Create a note."
    assert create["description"] == "Retry with the same Idempotency-Key."
    assert create["tags"] == ["test_tooling_openapi"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/NoteCreate"}
    assert create["parameters"] == [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": r"^\S+$", "title": "Idempotency-Key"},
        }
    ]
    assert create["responses"]["201"]["headers"]["Location"]["description"] == "the new note"
    assert create["responses"]["422"]["description"] == "An error."
    listing = document["paths"]["/notes"]["get"]["parameters"]
    assert [(item["name"], item["in"], item["required"]) for item in listing] == [
        ("limit", "query", False),
        ("cursor", "query", False),
    ]
    assert listing[0]["schema"]["maximum"] == 100


def test_path_parameters_security_and_undeclared_routes() -> None:
    # Given: a route with a declared path parameter and an API key, and one with a greedy parameter and no declaration
    document = build(notes_app())
    delete = document["paths"]["/notes/{note_id}"]["delete"]
    # Then: the path parameter is required with its declared schema, the API key is a scheme, 204 has no body
    note_id = {"type": "string", "pattern": "^n[0-9]+$", "title": "Note Id"}
    assert delete["parameters"] == [{"name": "note_id", "in": "path", "required": True, "schema": note_id}]
    assert document["paths"]["/files/{path}"]["get"]["parameters"][0]["schema"] == {"type": "string"}
    assert delete["security"] == [{"api_key": []}]
    assert document["components"]["securitySchemes"]["api_key"]["name"] == "x-api-key"
    assert "content" not in delete["responses"]["204"]
    # And: the greedy route is documented from the app alone
    assert document["paths"]["/files/{path}"]["get"]["responses"] == {"200": {"description": "HTTP 200"}}


def test_only_referenced_models_are_components() -> None:
    # Given: query and header models (inlined as parameters) and a nested model
    schemas = build(notes_app())["components"]["schemas"]
    # Then: bodies, responses and what they nest are components; parameter models are not
    assert set(schemas) == {"NoteCreate", "Note", "Problem", "Tag"}


def test_cli_documents_the_gateway_app_with_each_authorizer_kind(tmp_path: Path) -> None:
    # Given: the gateway test app (a built-in, a Cognito and two custom authorizers)
    output = tmp_path / "openapi.json"

    def devstack(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "chalice_devstack", "openapi", "--output", str(output), *args]
        return subprocess.run(command, cwd=APPS_DIR / "gateway", capture_output=True, text=True, check=False)

    # When: `devstack openapi --check` runs before the document exists, then it is written, then checked
    stale = devstack("--check")
    written = devstack()
    current = devstack("--check")
    # Then: the check fails until the document is written, and passes after
    assert stale.returncode == 1, stale.stderr
    assert "regenerate it" in stale.stdout
    assert (written.returncode, current.returncode) == (0, 0), written.stderr + current.stderr
    document = json.loads(output.read_text())
    validate(document)
    schemes = document["components"]["securitySchemes"]
    assert {"gate", "pool", "token", "foreign"} <= set(schemes)
    assert all(scheme["type"] == "apiKey" and scheme["in"] == "header" for scheme in schemes.values())
    assert render(document) == output.read_text()
