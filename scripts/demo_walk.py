"""A scripted walk through the generated service's API and each of its patterns, printing every exchange.

Run it with the generated service's venv, from inside the generated project folder:
    cd .demo/orders-service && .venv/bin/python ../../scripts/demo_walk.py

The API steps are data and the transport is an object with request(method, path, body, headers):
on the service's devstack (HTTP to its API) when chalice-devstack is installed, else in-process
(chalice.test.Client on moto's mock_aws, the tables created from infra/resources.yaml). On the
devstack, each pattern the service has is walked too: queue + saga, S3 events (presigned POST,
the object-created event reaching its handler, the upload's state), the stream, a schedule.

A service with sign-in (chalicelib/api/auth.py) is walked on its devstack with real tokens of its user
pool: SIGNED_IN_STEPS name who sends each request, and show a 401 without a token and a 404 across users.
"""

import importlib
import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
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
    caller: str | None = None  # with sign-in: who sends it (a user name; "admin" is in the admin group), None: no token


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


# The walk of a service with sign-in: every request as a named user of the pool, or with no token at all.
SIGNED_IN_STEPS: list[Step] = [
    Step("Health check: public", "GET", "/health"),
    Step("No token: the authorizer answers 401", "GET", "/users/me", expect=401),
    Step("Alice signs in and saves her profile", "PUT", "/users/me", {"name": "Alice", "email": "alice@example.com"},
         save={"alice": "id"}, caller="alice"),
    Step("Bob saves his", "PUT", "/users/me", {"name": "Bob", "email": "bob@example.com"}, save={"bob": "id"},
         caller="bob"),
    Step("And Carol", "PUT", "/users/me", {"name": "Carol", "email": "carol@example.com"}, caller="carol"),
    Step("Alice reads her own profile", "GET", "/users/me", caller="alice"),
    Step("Alice asks for Bob's: 404, as if he did not exist", "GET", "/users/{bob}", expect=404, caller="alice"),
    Step("An admin reads Bob's", "GET", "/users/{bob}", caller="admin"),
    Step("Alice lists users: only admins may (403)", "GET", "/users", expect=403, caller="alice"),
    Step("The admin lists users, two per page", "GET", "/users?limit=2", save={"next": "next"}, caller="admin"),
    Step("Next page, with the opaque cursor", "GET", "/users?limit=2&cursor={next}", caller="admin"),
    Step("Alice renames herself", "PATCH", "/users/{alice}", {"name": "Alice K."}, caller="alice"),
    Step("Bob takes Alice's email: conflict", "PATCH", "/users/{bob}", {"email": "alice@example.com"}, 409,
         caller="bob"),
    Step("Bad email: the field is named", "PUT", "/users/me", {"name": "X", "email": "not-an-email"}, 422,
         caller="alice"),
    Step("Malformed JSON", "PUT", "/users/me", expect=400, raw_body='{"name": ', caller="alice"),
    Step("Not an id", "GET", "/users/not-a-uuid", expect=400, caller="alice"),
    Step("Alice deletes her profile", "DELETE", "/users/{alice}", expect=204, caller="alice"),
    Step("Gone", "GET", "/users/me", expect=404, caller="alice"),
]  # fmt: skip


def fill(value: Any, saved: dict[str, str], in_url: bool = False) -> Any:
    """Replace {name} placeholders with saved values (URL-quoted inside a path)."""
    if isinstance(value, str):
        for name, saved_value in saved.items():
            value = value.replace(f"{{{name}}}", quote(saved_value, safe="") if in_url else saved_value)
        return value
    if isinstance(value, dict):
        return {key: fill(item, saved) for key, item in value.items()}
    return value


def run_walk(
    transport: Transport, steps: list[Step], out: Any = sys.stdout, sign_in: Callable[[str], str] | None = None
) -> list[str]:
    """Run the steps in order, printing each exchange; return the steps whose status was not the expected one.

    sign_in(caller) gives the token a step's caller sends (a service with sign-in).
    """
    saved: dict[str, str] = {}
    failures = []
    for number, step in enumerate(steps, 1):
        path = fill(step.path, saved, in_url=True)
        body = step.raw_body if step.raw_body is not None else fill(step.body, saved)
        print(f"\n[{number:2}] {step.title}", file=out)
        shown = body if isinstance(body, str) or body is None else json.dumps(body)
        print(f"  -> {step.method} {path}" + (f"  {shown}" if shown is not None else ""), file=out)
        headers = {"Content-Type": "application/json"}
        if step.caller and sign_in:
            headers["Authorization"] = sign_in(step.caller)
        reply = transport.request(step.method, path, body, headers)
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
    from chalice_devstack.project import Project  # the generated service's dev dependency
    from chalice_devstack.provision import provision

    service = Project.at(project)
    config = service.chalice_config()
    os.environ.update(service.function_environment("dev"))
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
        provision(lambda name: boto3.client(name, region_name=region), service, region=region)
        from app import app

        with Client(app) as client:
            yield InProcessTransport(client)


class LiveTransport:
    """Requests over HTTP to the API a running devstack serves (chalice local)."""

    def __init__(self, stack: Any) -> None:
        self.stack = stack

    def request(self, method: str, path: str, body: Any, headers: dict[str, str]) -> Reply:
        """Send one request to the devstack's API URL."""
        reply = self.stack.api(method, path, body, headers)
        return Reply(reply.status, reply.headers, reply.body)


@contextmanager
def live_service(project: Path) -> Iterator[Any]:
    """The project's devstack (make dev) in a child process on :4566 / :8000 until the walk ends."""
    sys.path.insert(0, str(project))
    from chalice_devstack.project import Project  # the generated service's dev dependency
    from chalice_devstack.testing import running_devstack

    service = Project.at(project)
    os.environ.update(service.function_environment("dev"))
    os.environ["LOG_LEVEL"] = os.environ.get("DEMO_LOG_LEVEL", "WARNING")
    region = os.environ.get("AWS_DEFAULT_REGION") or _region_of(project)
    os.environ.update({"AWS_DEFAULT_REGION": region, "AWS_REGION": region, "AWS_ACCESS_KEY_ID": "demo",
                       "AWS_SECRET_ACCESS_KEY": "demo"})
    os.environ.pop("AWS_ENDPOINT_URL", None)
    aws_port = int(os.environ.get("DEVSTACK_AWS_PORT", "4566"))
    api_port = int(os.environ.get("DEVSTACK_API_PORT", "8000"))
    with running_devstack(service, "dev", region, aws_port=aws_port, api_port=api_port) as stack:
        yield stack


class SignedInStack:
    """A devstack whose API calls go signed in as one user of its pool (the pattern walks of a service with sign-in)."""

    def __init__(self, stack: Any, user: str) -> None:
        from chalice_devstack.testing import cognito_token

        self.stack, self.user = stack, user
        self.token = cognito_token(stack, user)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stack, name)

    def api(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> Any:
        """Call the API with this user's token (unless headers carry another)."""
        return self.stack.api(method, path, body, {"Authorization": self.token, **(headers or {})})


def register(stack: Any, name: str, email: str) -> str:
    """A user with a profile, as the service creates one: PUT /users/me when signed in, else POST /users."""
    if isinstance(stack, SignedInStack):
        return str(stack.api("PUT", "/users/me", {"name": name, "email": email}).body["id"])
    return str(stack.api("POST", "/users", {"name": name, "email": email}).body["id"])


def owned(stack: Any, body: dict[str, Any], field_name: str, user_id: str) -> dict[str, Any]:
    """A request body naming its owner, unless the service takes the owner from the token."""
    return body if isinstance(stack, SignedInStack) else {field_name: user_id, **body}


def walk_queue_and_saga(stack: Any, out: Any) -> list[str]:
    """POST /orders -> orders queue -> handler -> saga execution calling Lambda tasks -> terminal status."""
    seeded = subprocess.run([sys.executable, "-m", "scripts.seed", "--stage", "dev"], check=False,
                            env={**os.environ, "AWS_ENDPOINT_URL": stack.endpoint_url}, capture_output=True, text=True)
    print(f"  seed products: exit {seeded.returncode} {seeded.stdout.strip()[-200:]}", file=out)
    user = register(stack, "Demo Buyer", "buyer@example.com")
    results = {}
    for token in ("tok_approve", "tok_decline"):
        order = {"items": [{"product_id": "kettle", "quantity": 1}], "payment_token": token}
        body = owned(stack, order, "user_id", user)
        placed = stack.api("POST", "/orders", body)
        print(f"  -> POST /orders ({token})  <- {placed.status} status={(placed.body or {}).get('status')}", file=out)
        if placed.status != 202:
            return [f"POST /orders ({token}): {placed.status}"]
        order_id = placed.body["id"]
        final = stack.wait_until(lambda oid=order_id: _terminal_order(stack, oid), timeout=30)
        results[token] = final["status"]
        print(f"  order {order_id[:8]}: {final['status']}{' (' + final['reason'] + ')' if final.get('reason') else ''}",
              file=out)
        if isinstance(stack, SignedInStack):  # another user asks for it: 404, as if it did not exist
            foreign = SignedInStack(stack.stack, "someone-else").api("GET", f"/orders/{order_id}")
            print(f"  -> GET /orders/{order_id[:8]} as another user  <- {foreign.status}", file=out)
            if foreign.status != 404:
                return [f"another user's GET /orders/{{id}}: {foreign.status} != 404"]
    for machine in stack.status().get("state_machines", []):
        print(f"  state machine {machine['state_machine']}: {machine.get('counts')}", file=out)
    expected = {"tok_approve": "CONFIRMED", "tok_decline": "CANCELLED"}
    return [f"order with {t}: {results.get(t)} != {s}" for t, s in expected.items() if results.get(t) != s]


def _terminal_order(stack: Any, order_id: str) -> Any:
    order = stack.api("GET", f"/orders/{order_id}").body
    return order if order and order.get("status") in ("CONFIRMED", "CANCELLED") else None


def walk_stream(stack: Any, out: Any) -> list[str]:
    """A user written to the table -> DynamoDB stream -> stream handler -> the user's activity."""
    user = register(stack, "Stream Demo", "stream@example.com")
    print(f"  -> a user  created {user[:8]}; waiting for the stream handler", file=out)
    activity = stack.wait_until(lambda: (stack.api("GET", f"/users/{user}/activity").body or {}).get("audit"),
                                timeout=15)
    print(f"  <- GET /users/{user[:8]}/activity: {json.dumps(activity)[:300]}", file=out)
    return [] if activity else ["no activity recorded"]


def walk_uploads(stack: Any, out: Any) -> list[str]:
    """Presigned POST -> the file sent straight to the bucket -> S3 event -> queue -> handler -> the upload's state."""
    samples = importlib.import_module("tests.upload_samples")  # the service's own sample files and browser form
    png, pdf, post_form = samples.png, samples.pdf, samples.post_form

    owner = register(stack, "Upload Demo", "uploads@example.com")
    expected = {"photo.png": ("READY", png(32, 24)), "invoice.png": ("REJECTED", pdf())}
    failures = []
    for filename, (state, data) in expected.items():
        body = owned(stack, {"filename": filename, "content_type": "image/png", "size": len(data)}, "owner_id", owner)
        grant = stack.api("POST", "/uploads", body)
        print(f"  -> POST /uploads {json.dumps(body)[:120]}  <- {grant.status} status={grant.body.get('status')}",
              file=out)
        if grant.status != 201:
            return [f"POST /uploads ({filename}): {grant.status}"]
        sent = post_form(grant.body["url"], grant.body["fields"], filename, data, "image/png")
        print(f"  -> POST {grant.body['url']} (the presigned form: {len(grant.body['fields'])} fields + "
              f"{len(data)} bytes of {'a real PNG' if state == 'READY' else 'a PDF declared as PNG'})  <- {sent}",
              file=out)
        upload = stack.wait_until(lambda upload_id=grant.body["id"]: _checked_upload(stack, upload_id), timeout=30)
        facts = upload.get("content") or {}
        found = f"{facts.get('width')}x{facts.get('height')} {facts.get('content_type')}"
        detail = found if upload["status"] == "READY" else upload.get("reason")
        print(f"  S3 event -> queue -> process_uploads; GET /uploads/{upload['id'][:8]}: {upload['status']} ({detail})",
              file=out)
        if upload["status"] != state:
            failures.append(f"{filename}: {upload['status']} != {state}")
    return failures


def _checked_upload(stack: Any, upload_id: str) -> Any:
    upload = stack.api("GET", f"/uploads/{upload_id}").body
    return upload if upload and upload.get("status") != "PENDING" else None


def walk_schedule(stack: Any, out: Any) -> list[str]:
    """A schedule fired on demand (as `make trigger FN=daily_report` does)."""
    reply = stack.trigger("daily_report")
    print(f"  -> POST /_devstack/schedules/daily_report  <- {reply.status} {json.dumps(reply.body)[:300]}", file=out)
    return [] if reply.status == 200 else [f"trigger daily_report: {reply.status}"]


# A pattern's walk runs when the file that defines its handler exists in the service.
PATTERN_WALKS: list[tuple[str, str, Callable[[Any, Any], list[str]]]] = [
    ("Queue + saga: orders", "chalicelib/events/orders_queue.py", walk_queue_and_saga),
    ("S3 events: uploads", "chalicelib/events/uploads_events.py", walk_uploads),
    ("DynamoDB stream: activity", "chalicelib/events/stream.py", walk_stream),
    ("Schedule: daily report", "chalicelib/events/schedules.py", walk_schedule),
]


def signs_in(project: Path) -> bool:
    """True when the service has sign-in (its API's user pool authorizer)."""
    return (project / "chalicelib" / "api" / "auth.py").exists()


def steps_for(project: Path) -> list[Step]:
    """The API walk of this service: with sign-in, or without."""
    return SIGNED_IN_STEPS if signs_in(project) else STEPS


def token_signer(stack: Any) -> Callable[[str], str]:
    """Sign a caller in on the devstack's user pool: "admin" in the admin group, anyone else in none."""
    from chalice_devstack.testing import cognito_token

    def sign_in(caller: str) -> str:
        return str(cognito_token(stack, caller, ["admin"] if caller == "admin" else []))

    return sign_in


def run_live(project: Path, out: Any = sys.stdout) -> list[str]:
    """Start the devstack, walk the API, then each pattern present; print the devstack status; stop."""
    with live_service(project) as stack:
        print(f"devstack up: API {stack.api_url}, AWS endpoint {stack.endpoint_url}", file=out)
        sign_in = token_signer(stack) if signs_in(project) else None
        failures = run_walk(LiveTransport(stack), steps_for(project), out, sign_in)
        for title, marker, walk in PATTERN_WALKS:
            if (project / marker).exists():
                print(f"\n== {title}", file=out)
                walker = stack if sign_in is None else SignedInStack(stack, f"walk-{marker.rsplit('/', 1)[-1][:-3]}")
                try:
                    failures += [f"{title}: {problem}" for problem in walk(walker, out)]
                except Exception as error:  # one broken pattern should not hide the others
                    failures.append(f"{title}: {type(error).__name__}: {error}")
        status = stack.status()
        print("\n== devstack status", file=out)
        for queue in (status or {}).get("queues", []):
            print(f"  {queue['queue']}{' (DLQ)' if queue['dlq'] else ''}: {queue.get('visible')} waiting", file=out)
    return failures


def _region_of(project: Path) -> str:
    """The region the service was generated for (its settings default; read after its env is set)."""
    from chalicelib.config import get_settings

    return str(get_settings().aws_region)


def main() -> int:
    """Walk the service in the current folder (on its devstack when it has one); exit 1 on any surprise."""
    project = Path.cwd()
    if importlib.util.find_spec("chalice_devstack") is not None:
        print(f"Walking {project.name} on its devstack (HTTP to the API, boto3 to the AWS endpoint)")
        failures = run_live(project)
    elif signs_in(project):
        print("Sign-in needs devstack (its user pool checks the tokens): make install first", file=sys.stderr)
        return 1
    else:
        print(f"Walking the API of {project.name} (in-process: chalice.test.Client on moto)")
        with in_process_service(project) as transport:
            failures = run_walk(transport, STEPS)
    if failures:
        print("\nUnexpected responses:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"\nAll {len(steps_for(project))} steps answered as expected.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
