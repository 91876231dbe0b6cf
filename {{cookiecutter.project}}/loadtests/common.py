"""What this service's load-test users share: resource names, AWS clients, fresh keys, pacing.

Imported by locust only (needs the `load` extra). The generic glue (the run's LOAD_* settings,
custom measurements, bounded polling, the run's files) is chalice_devstack's locust_support.
Resource names come from .chalice/config.json for the stage, the same place the functions read
them from, unless LOAD_<NAME> overrides them.
"""

import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

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
