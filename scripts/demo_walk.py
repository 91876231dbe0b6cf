"""A scripted walk through the generated service's API, printing each request and response.

Run it with the generated service's venv, from inside the generated project folder:
    cd .demo/orders-service && .venv/bin/python ../../scripts/demo_walk.py

The steps are data and the transport is an object with request(method, path, body,
headers): today the walk runs in-process (chalice.test.Client on moto's mock_aws, the
tables created by the service's own devstack.provision from infra/resources.yaml); a
live HTTP transport against the offline devstack can replace it without touching STEPS.
"""

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote


@dataclass(frozen=True)
class Reply:
    """What came back: status, headers and the decoded JSON body (None when empty)."""

    status: int
    headers: dict[str, str]
    body: Any


class Transport(Protocol):
    """Anything that can send one HTTP request to the service."""

    def request(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        """Send a request with a JSON body (None for no body)."""
        ...


@dataclass(frozen=True)
class Step:
    """One request of the walk; `{name}` in path/body is filled from values saved earlier."""

    title: str
    method: str
    path: str
    body: Any = None
    expect: int = 200
    save: dict[str, str] = field(default_factory=dict)  # saved name -> top-level key of the reply body
    raw_body: str | None = None  # sent as-is instead of JSON (to show malformed input)


STEPS: list[Step] = [
    Step("Health check", "GET", "/health"),
    Step("Create a user", "POST", "/users", {"name": "Ada Lovelace", "email": "ada@example.com"}, 201,
         save={"ada": "id"}),
    Step("Create another", "POST", "/users", {"name": "Grace Hopper", "email": "grace@example.com"}, 201),
    Step("And a third", "POST", "/users", {"name": "Alan Turing", "email": "alan@example.com"}, 201),
    Step("Get the first user", "GET", "/users/{ada}"),
    Step("List users, two per page", "GET", "/users?limit=2", save={"next": "next"}),
    Step("Next page, with the opaque cursor", "GET", "/users?limit=2&cursor={next}"),
    Step("Rename the first user", "PATCH", "/users/{ada}", {"name": "Ada King"}),
    Step("Same email again: conflict", "POST", "/users", {"name": "Impostor", "email": "ada@example.com"}, 409),
    Step("Bad email: the field is named", "POST", "/users", {"name": "X", "email": "not-an-email"}, 422),
    Step("Unknown field", "POST", "/users", {"name": "X", "email": "x@example.com", "role": "admin"}, 422),
    Step("Malformed JSON", "POST", "/users", expect=400, raw_body='{"name": '),
    Step("Limit above 100", "GET", "/users?limit=1000", expect=400),
    Step("Not an id", "GET", "/users/not-a-uuid", expect=400),
    Step("Delete the first user", "DELETE", "/users/{ada}", expect=204),
    Step("Gone", "GET", "/users/{ada}", expect=404),
]


def fill(value: Any, saved: dict[str, str], in_url: bool = False) -> Any:
    """Replace {name} placeholders with saved values (URL-quoted inside a path)."""
    if isinstance(value, str):
        for name, saved_value in saved.items():
            value = value.replace(f"{{{name}}}", quote(saved_value, safe="") if in_url else saved_value)
        return value
    if isinstance(value, dict):
        return {key: fill(item, saved) for key, item in value.items()}
    return value


def run_walk(transport: Transport, steps: list[Step], out: Any = sys.stdout) -> list[str]:
    """Run the steps in order, printing each exchange; return the steps whose status was not the expected one."""
    saved: dict[str, str] = {}
    failures = []
    for number, step in enumerate(steps, 1):
        path = fill(step.path, saved, in_url=True)
        body = step.raw_body if step.raw_body is not None else fill(step.body, saved)
        print(f"\n[{number:2}] {step.title}", file=out)
        shown = body if isinstance(body, str) or body is None else json.dumps(body)
        print(f"  -> {step.method} {path}" + (f"  {shown}" if shown is not None else ""), file=out)
        reply = transport.request(step.method, path, body, {"Content-Type": "application/json"})
        verdict = "ok" if reply.status == step.expect else f"EXPECTED {step.expect}"
        print(f"  <- {reply.status} ({verdict})  {json.dumps(reply.body) if reply.body is not None else ''}",
              file=out)
        if reply.status != step.expect:
            failures.append(f"{step.title}: {reply.status} != {step.expect}")
        for name, key in step.save.items():
            if isinstance(reply.body, dict) and isinstance(reply.body.get(key), str):
                saved[name] = reply.body[key]
    return failures


class InProcessTransport:
    """Requests through chalice.test.Client: the app runs in this process on moto."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def request(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        """Send through the Chalice test client's HTTP interface."""
        payload = b"" if body is None else (body if isinstance(body, str) else json.dumps(body)).encode()
        response = self.client.http.request(method, path, headers=headers, body=payload)
        text = response.body.decode() if response.body else ""
        return Reply(response.status_code, dict(response.headers), json.loads(text) if text else None)


@contextmanager
def in_process_service(project: Path) -> Iterator[Transport]:
    """The project's app on moto, its resources created from infra/resources.yaml by its own provisioner."""
    sys.path.insert(0, str(project))
    from devstack.project import function_environment  # the generated service's own helpers
    from devstack.provision import provision

    config = json.loads((project / ".chalice" / "config.json").read_text())
    os.environ.update(function_environment("dev"))
    # The service's JSON logs would bury the exchanges; DEMO_LOG_LEVEL=INFO shows them.
    os.environ["LOG_LEVEL"] = os.environ.get("DEMO_LOG_LEVEL", "WARNING")
    region = os.environ.get("AWS_DEFAULT_REGION") or _region_of(project)
    os.environ.update({"AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "demo",
                       "AWS_SECRET_ACCESS_KEY": "demo", "POWERTOOLS_METRICS_NAMESPACE": config["app_name"]})
    os.environ.pop("AWS_ENDPOINT_URL", None)

    import boto3
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        provision(lambda service: boto3.client(service, region_name=region), region=region)
        from app import app

        with Client(app) as client:
            yield InProcessTransport(client)


def _region_of(project: Path) -> str:
    """The region the service was generated for (its settings default; read after its env is set)."""
    from chalicelib.config import get_settings

    return str(get_settings().aws_region)


def main() -> int:
    """Walk the API of the service in the current folder; exit 1 if any step surprised us."""
    project = Path.cwd()
    print(f"Walking the API of {project.name} (in-process: chalice.test.Client on moto)")
    with in_process_service(project) as transport:
        failures = run_walk(transport, STEPS)
    if failures:
        print("\nUnexpected responses:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"\nAll {len(STEPS)} steps answered as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
