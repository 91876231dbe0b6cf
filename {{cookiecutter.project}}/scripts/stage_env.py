"""Point a script at one stage's resources, the way the functions see them."""

import os
from pathlib import Path

from chalice_devstack.project import Project
from chalice_devstack.settings import load_settings

PROJECT = Project.discover(Path(__file__).parent)


def use_stage(stage: str) -> None:
    """Load the stage's env vars from .chalice/config.json (the caller's env wins).

    AWS_ENDPOINT_URL defaults to devstack's endpoint ([tool.devstack] aws_port); set it empty to reach
    real AWS with your credentials.
    """
    for name, value in PROJECT.function_environment(stage).items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_ENDPOINT_URL", load_settings(PROJECT.root).endpoint_url)
    if not os.environ["AWS_ENDPOINT_URL"]:
        del os.environ["AWS_ENDPOINT_URL"]
    elif "AWS_ACCESS_KEY_ID" not in os.environ:  # devstack accepts any credentials
        os.environ.update({"AWS_ACCESS_KEY_ID": "devstack", "AWS_SECRET_ACCESS_KEY": "devstack"})
