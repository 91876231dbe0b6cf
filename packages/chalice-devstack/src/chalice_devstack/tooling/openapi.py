"""An OpenAPI 3.1 document from a Chalice app: its routes, and the pydantic models its views declare.

Paths, methods, path parameters, operation ids, summaries and security schemes come from the
app itself (app.routes). What a route reads and answers comes from its view function's
`openapi` attribute, a mapping that the project's own route decorator sets from the same
models it validates requests with, so the document cannot drift from the code:

    path:             a pydantic model: the path parameters' schemas (default: strings)
    body:             a pydantic model: the JSON request body (required)
    query:            a pydantic model: one query parameter per field
    headers:          a pydantic model: one header parameter per field (named by its alias)
    responses:        {status: pydantic model, or None for no body}
    response_headers: {status: {header name: description}}

A route without the attribute is documented from the app alone, with an undescribed 200.
Each operation is tagged with the last part of its view's module (`chalicelib.api.users` -> users).
"""

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from chalice_devstack.project import Project
from chalice_devstack.tooling.app_loader import load_app

OPENAPI_VERSION = "3.1.0"
CONTRACT_ATTRIBUTE = "openapi"
REF_PREFIX = "#/components/schemas/"
API_KEY_SCHEME = {"type": "apiKey", "in": "header", "name": "x-api-key", "description": "An API Gateway API key."}
# Chalice's greedy path parameter, {proxy+}, is {proxy} in OpenAPI.
_GREEDY = re.compile(r"\{(\w+)\+\}")
_PATH_PARAMETER = re.compile(r"\{(\w+)\+?\}")

Schema = dict[str, Any]


def build(app: Any, version: str = "0.0.0") -> Schema:
    """The OpenAPI document of a Chalice app's routes."""
    contracts = {
        (path, method): contract_of(entry.view_function)
        for path, methods in app.routes.items()
        for method, entry in methods.items()
    }
    schemas = ModelSchemas(model_uses(contracts.values()))
    paths: dict[str, dict[str, Any]] = {}
    security_schemes: dict[str, Schema] = {}
    for path, methods in sorted(app.routes.items()):
        for method, entry in sorted(methods.items()):
            paths.setdefault(_GREEDY.sub(r"{\1}", path), {})[method.lower()] = operation(
                entry, contracts[(path, method)], schemas
            )
            security_schemes.update(security_schemes_of(entry))
    components: Schema = {"schemas": schemas.components()}
    if security_schemes:
        components["securitySchemes"] = dict(sorted(security_schemes.items()))
    document = {
        "openapi": OPENAPI_VERSION,
        "info": {"title": app.app_name, "version": version},
        "paths": paths,
        "components": components,
    }
    return without_unused_schemas(document)


def contract_of(view: Any) -> Mapping[str, Any]:
    """What the view declares about its inputs and answers (empty if nothing)."""
    declared = getattr(view, CONTRACT_ATTRIBUTE, None)
    return declared if isinstance(declared, Mapping) else {}


def model_uses(contracts: Iterable[Mapping[str, Any]]) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    """Every declared model with the mode it is used in: inputs validate, responses serialize."""
    uses: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for contract in contracts:
        uses += [(contract[key], "validation") for key in ("path", "body", "query", "headers") if contract.get(key)]
        uses += [(model, "serialization") for model in contract.get("responses", {}).values() if model is not None]
    return list(dict.fromkeys(uses))


class ModelSchemas:
    """The JSON Schemas of the declared models, as components referenced by $ref."""

    def __init__(self, uses: list[tuple[type[BaseModel], JsonSchemaMode]]) -> None:
        refs, top = models_json_schema(uses, ref_template=REF_PREFIX + "{model}") if uses else ({}, {})
        self._refs: dict[tuple[Any, JsonSchemaMode], Schema] = dict(refs)
        self._definitions: dict[str, Schema] = top.get("$defs", {})

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> Schema:
        """A $ref to the model's schema."""
        return dict(self._refs[(model, mode)])

    def fields(self, model: type[BaseModel]) -> tuple[dict[str, Schema], set[str]]:
        """An input model's properties (by alias) and the names of those required."""
        schema = self._definitions[self.ref(model, "validation")["$ref"].removeprefix(REF_PREFIX)]
        return schema.get("properties", {}), set(schema.get("required", []))

    def components(self) -> dict[str, Schema]:
        """Every schema, by name."""
        return dict(sorted(self._definitions.items()))


def operation(entry: Any, contract: Mapping[str, Any], schemas: ModelSchemas) -> Schema:
    """One route's operation object."""
    summary, _, description = (entry.view_function.__doc__ or entry.view_name).strip().partition("\n")
    found: Schema = {
        "operationId": entry.view_name,
        "summary": summary.strip(),
        "tags": [entry.view_function.__module__.rsplit(".", 1)[-1]],
    }
    if description.strip():
        found["description"] = description.strip()
    declared = schemas.fields(contract["path"])[0] if contract.get("path") else {}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": declared.get(name, {"type": "string"})}
        for name in _PATH_PARAMETER.findall(entry.uri_pattern)
    ]
    parameters += model_parameters(contract.get("query"), "query", schemas)
    parameters += model_parameters(contract.get("headers"), "header", schemas)
    if parameters:
        found["parameters"] = parameters
    if contract.get("body"):
        found["requestBody"] = {"required": True, "content": json_content(schemas.ref(contract["body"], "validation"))}
    found["responses"] = responses(contract, schemas)
    security = security_of(entry)
    if security:
        found["security"] = security
    return found


def model_parameters(model: type[BaseModel] | None, location: str, schemas: ModelSchemas) -> list[Schema]:
    """One parameter per field of an input model (query string or headers)."""
    if model is None:
        return []
    properties, required = schemas.fields(model)
    return [
        {"name": name, "in": location, "required": name in required, "schema": _not_null(schema)}
        for name, schema in properties.items()
    ]


def _not_null(schema: Schema) -> Schema:
    """A parameter's schema without the null an optional field allows: an absent parameter is how it is left out."""
    choices = [choice for choice in schema.get("anyOf", []) if choice != {"type": "null"}]
    if len(choices) != 1:
        return schema
    rest = {key: value for key, value in schema.items() if key != "anyOf" and not (key == "default" and value is None)}
    return {**choices[0], **rest}


def responses(contract: Mapping[str, Any], schemas: ModelSchemas) -> Schema:
    """The declared answers by status; an undescribed 200 when the view declares none."""
    declared: Mapping[int, type[BaseModel] | None] = contract.get("responses") or {200: None}
    headers: Mapping[int, Mapping[str, str]] = contract.get("response_headers", {})
    found: Schema = {}
    for status, model in sorted(declared.items()):
        answer: Schema = {"description": _status_description(status, model)}
        if model is not None:
            answer["content"] = json_content(schemas.ref(model, "serialization"))
        if headers.get(status):
            answer["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in sorted(headers[status].items())
            }
        found[str(status)] = answer
    return found


def _status_description(status: int, model: type[BaseModel] | None) -> str:
    doc = (model.__doc__ or "").strip().splitlines() if model is not None else []
    return doc[0] if doc else f"HTTP {status}"


def json_content(schema: Schema) -> Schema:
    """An application/json media type object."""
    return {"application/json": {"schema": schema}}


def security_schemes_of(entry: Any) -> dict[str, Schema]:
    """The security schemes a route uses, by name: its authorizer's and the API key's."""
    found: dict[str, Schema] = {}
    if entry.authorizer is not None:
        found[entry.authorizer.name] = authorizer_scheme(entry.authorizer)
    if entry.api_key_required:
        found["api_key"] = dict(API_KEY_SCHEME)
    return found


def security_of(entry: Any) -> list[Schema]:
    """A route's security requirement: every scheme it uses, together."""
    schemes = security_schemes_of(entry)
    scopes = list(getattr(entry.authorizer, "scopes", None) or [])
    return [{name: scopes if name != "api_key" else [] for name in schemes}] if schemes else []


def authorizer_scheme(authorizer: Any) -> Schema:
    """A Chalice authorizer as a security scheme: a token in a request header."""
    if hasattr(authorizer, "to_swagger"):
        swagger = authorizer.to_swagger()
        header, kind = swagger["name"], swagger.get("x-amazon-apigateway-authtype", "custom")
    else:  # a built-in authorizer (@app.authorizer): its settings are on its config
        header, kind = authorizer.config.header, "a Lambda authorizer of this app"
    return {"type": "apiKey", "in": "header", "name": header, "description": f"Checked by {kind}."}


def without_unused_schemas(document: Schema) -> Schema:
    """The document without the component schemas nothing refers to (query and header models are inlined)."""
    schemas: dict[str, Schema] = document["components"]["schemas"]
    used = referenced_names({key: value for key, value in document.items() if key != "components"})
    pending = list(used)
    while pending:
        for name in referenced_names(schemas.get(pending.pop(), {})) - used:
            used.add(name)
            pending.append(name)
    document["components"]["schemas"] = {name: schema for name, schema in schemas.items() if name in used}
    return document


def referenced_names(node: Any) -> set[str]:
    """The component schema names a node refers to, at any depth."""
    if isinstance(node, dict):
        own = {node["$ref"].removeprefix(REF_PREFIX)} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(referenced_names(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(referenced_names(value) for value in node))
    return set()


def render(document: Schema) -> str:
    """The document as stable JSON text (two-space indent, trailing newline)."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def project_version(root: Path) -> str:
    """The project's [project] version from its pyproject.toml, or 0.0.0."""
    try:
        project = tomllib.loads((root / "pyproject.toml").read_text()).get("project", {})
    except FileNotFoundError:
        return "0.0.0"
    return str(project.get("version", "0.0.0"))


def write(project: Project, stage: str, output: Path | None, check: bool) -> int:
    """Print the project's document, write it to output, or (check) tell whether output is current: 0 or 1."""
    text = render(build(load_app(project, stage), project_version(project.root)))
    if output is None:
        print(text, end="")
        return 0
    if check:
        current = output.read_text() if output.exists() else ""
        if current != text:
            print(f"{output} is not the app's OpenAPI document: regenerate it (devstack openapi --output {output})")
            return 1
        return 0
    output.write_text(text)
    print(f"wrote {output} ({len(json.loads(text)['paths'])} paths)")
    return 0
