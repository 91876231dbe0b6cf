"""Point a script at one stage's resources, the way the functions see them; say in one line what stops it."""

import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, NoRegionError
from chalice_devstack.project import Project, ProjectFileError
from chalice_devstack.settings import load_settings

PROJECT = Project.discover(Path(__file__).parent)
# What AWS answers when a stage's queue or table is not where the script looks.
MISSING_RESOURCE_CODES = frozenset(
    {"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", "ResourceNotFoundException"}
)


class ScriptError(Exception):
    """Bad input a person can fix: the message names the problem and the fix, in one line."""


def use_stage(stage: str) -> None:
    """Load the stage's env vars from .chalice/config.json (the caller's env wins).

    AWS_ENDPOINT_URL defaults to devstack's endpoint ([tool.devstack] aws_port); set it empty to reach
    real AWS with your credentials. A devstack endpoint that does not answer stops here, at once,
    instead of after the SDK's retries.
    """
    stages = sorted(PROJECT.chalice_config().get("stages", {}))
    if stage not in stages:
        raise ScriptError(f"no stage {stage!r} in .chalice/config.json: use STAGE= one of {', '.join(stages)}")
    for name, value in PROJECT.function_environment(stage).items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_ENDPOINT_URL", load_settings(PROJECT.root).endpoint_url)
    if not os.environ["AWS_ENDPOINT_URL"]:
        del os.environ["AWS_ENDPOINT_URL"]
        return
    if "AWS_ACCESS_KEY_ID" not in os.environ:  # devstack accepts any credentials
        os.environ.update({"AWS_ACCESS_KEY_ID": "devstack", "AWS_SECRET_ACCESS_KEY": "devstack"})
    if not answers(os.environ["AWS_ENDPOINT_URL"]):
        raise ScriptError(unreachable(os.environ["AWS_ENDPOINT_URL"]))


def answers(url: str, timeout: float = 1.0) -> bool:
    """True when something accepts connections at the URL's host and port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def unreachable(endpoint: str) -> str:
    """The line for an AWS endpoint nothing answers on."""
    return (
        f"nothing answers at the AWS endpoint {endpoint}: start the devstack (make dev) in another shell, "
        "or set ENDPOINT= (empty) to use AWS itself"
    )


def explain(error: BaseException) -> str | None:
    """One line naming the problem and its fix for an error a person can fix; None for anything else (a bug)."""
    error = sdk_cause(error)
    if isinstance(error, ScriptError | ProjectFileError):
        return str(error)
    if isinstance(error, EndpointConnectionError):
        endpoint = os.environ.get("AWS_ENDPOINT_URL")
        return unreachable(endpoint) if endpoint else f"{error}: check the network and AWS_REGION"
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials: configure them (aws configure, AWS_PROFILE), or drop ENDPOINT= to use the devstack"
    if isinstance(error, NoRegionError):
        return "no AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1)"
    if isinstance(error, ClientError):
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        if code in MISSING_RESOURCE_CODES:
            return (
                f"{message.rstrip('.')} ({error.operation_name}): this stage's resources are not at this endpoint; "
                "start its devstack (make dev STAGE=...) or deploy it (make deploy STAGE=...)"
            )
        return f"AWS refused {error.operation_name}: {code}: {message}"
    return None


def sdk_cause(error: BaseException) -> BaseException:
    """The SDK error under a wrapper (PynamoDB keeps it as .cause), or the error itself."""
    cause = getattr(error, "cause", None)
    return cause if isinstance(cause, Exception) else error


def run_script(main: Callable[[], None]) -> None:
    """Run a script's main(); what a person can fix ends it with one line on stderr and exit code 2."""
    try:
        main()
    except Exception as error:
        line = explain(error)
        if line is None:
            raise
        print(f"{Path(sys.argv[0]).stem}: {line}", file=sys.stderr)
        raise SystemExit(2) from None
