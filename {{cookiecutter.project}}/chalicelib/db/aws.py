"""boto3 clients for the AWS services the app calls directly (SQS, Step Functions...).

boto3 honours AWS_ENDPOINT_URL, so the same code reaches devstack locally and AWS when deployed.
"""

from functools import cache, lru_cache
from typing import Any

import boto3

from chalicelib.config import get_settings


@cache
def client(service: str) -> Any:
    """Return the process-wide boto3 client of one AWS service."""
    return boto3.client(service, region_name=get_settings().aws_region)


@lru_cache(maxsize=1)
def account_id() -> str:
    """Return the AWS account id (asked once per cold start: ARNs need it, env vars cannot hold it)."""
    return str(client("sts").get_caller_identity()["Account"])


@cache
def queue_url(queue_name: str) -> str:
    """Return the URL of a queue by its name (looked up once per cold start)."""
    return str(client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"])


def transaction_failed_transiently(reasons: list[Any] | None) -> bool:
    """True when a cancelled DynamoDB transaction lost a race or was throttled (worth retrying)."""
    codes = {getattr(reason, "code", None) for reason in reasons or [] if reason is not None}
    return bool(codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
