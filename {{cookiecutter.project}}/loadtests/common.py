"""What this service's load-test users share: resource names, AWS clients, fresh keys, pacing.

Imported by locust only (needs the `load` extra). The generic glue (the run's LOAD_* settings,
custom measurements, bounded polling, the run's files) is chalice_devstack's locust_support.
Resource names come from .chalice/config.json for the stage, the same place the functions read
them from, unless LOAD_<NAME> overrides them.
"""

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING{% if cookiecutter.include_auth == 'y' %}, Any{% endif %}

from chalice_devstack.project import Project
from chalice_devstack.tooling.locust_support import STAGE

if TYPE_CHECKING:
    from types_boto3_sqs import SQSClient

# The longest pause between two tasks of a user: short, so a few users load the service.
WAIT_MAX_S = float(os.environ.get("LOAD_WAIT_MAX_S", "0.05"))


def resource_name(env_var: str) -> str:
    """A resource name: LOAD_<ENV_VAR> if set, else the stage's value in .chalice/config.json."""
    override = os.environ.get(f"LOAD_{env_var}")
    if override:
        return override
    return Project.discover(Path(__file__).parent).function_environment(STAGE)[env_var]


def sqs_client() -> "SQSClient":
    """An SQS client; AWS_ENDPOINT_URL (devstack) or the real account, as the service itself does."""
    import boto3  # imported late: only the queue user needs it

    return boto3.client("sqs")


def new_key() -> str:
    """A fresh idempotency key / unique suffix."""
    return uuid.uuid4().hex
{%- if cookiecutter.include_auth == 'y' %}


def sign_in(client: Any, role: str, groups: tuple[str, ...] = ()) -> str:
    """Sign a locust user in once: a new user of the devstack's pool whose ID token the client then sends with every
    request (cached: no sign-in per request, as a browser app keeps its tokens), with a saved profile; its user id.
    """
    from chalice_devstack.testing import cognito_token  # the token comes from devstack's user pool

    name = f"load-{role}-{new_key()[:12]}"
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    token = cognito_token(os.environ["AWS_ENDPOINT_URL"], name, groups, region=region)
    if hasattr(client, "auth_header"):  # FastHttpUser's session: its Authorization for every request
        client.auth_header = token
    else:  # HttpUser's requests.Session
        client.headers["Authorization"] = token
    profile = {"name": f"Load {role}", "email": f"{name}@example.com"}
    user_id: str = client.put("/users/me", json=profile, name="/users/me").json()["id"]
    return user_id
{%- endif %}
