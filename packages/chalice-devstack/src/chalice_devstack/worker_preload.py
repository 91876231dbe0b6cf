"""Imported by the execution environments' forkserver: what every worker it forks would otherwise load itself.

- the modules importing app.py loaded besides the project's own (environments.preload_modules),
  named in DEVSTACK_PRELOAD;
- botocore's parsed models of the services the project uses (DEVSTACK_PRELOAD_SERVICES), shared
  across sessions as the AWS endpoint shares them (moto_startup), so a function's first client,
  boto3's or PynamoDB's own session's, does not parse the JSON again.

Anything that fails here is skipped: the worker loads it again itself, and its error, if any, is the function's.
"""

import importlib
import os

from chalice_devstack import environments  # the module every worker runs
from chalice_devstack.moto_startup import share_botocore_loads


def _names(variable: str) -> list[str]:
    return [name for name in os.environ.get(variable, "").split(",") if name]


for _name in _names(environments.PRELOAD_VARIABLE):
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: S112 - see the docstring
        continue

share_botocore_loads()

if _services := _names(environments.PRELOAD_SERVICES_VARIABLE):
    import boto3
    import botocore.session

    # boto3's default session (its loader also searches boto3's data) and a plain botocore one (PynamoDB's kind):
    # a client of each imports what botocore imports on first use and parses each service's models.
    _region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION") or "us-east-1"
    for _create in (boto3.client, botocore.session.get_session().create_client):
        for _service in _services:
            try:
                _create(_service, region_name=_region)
            except Exception:  # noqa: S112 - see the docstring
                continue
