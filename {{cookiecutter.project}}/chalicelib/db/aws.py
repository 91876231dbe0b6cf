"""Typed boto3 clients for the AWS services the app calls directly: one cached factory per service.

types-boto3 (a dev dependency: the stubs never ship to Lambda, hence the TYPE_CHECKING imports) gives each
factory its service's client type, so mypy checks every call's parameters and every response key.
boto3 honours AWS_ENDPOINT_URL, so the same code reaches devstack locally and AWS when deployed.
"""

from functools import cache
from typing import TYPE_CHECKING{% if cookiecutter.include_orders == 'y' %}, Any{% endif %}

import boto3

from chalicelib.config import get_settings

if TYPE_CHECKING:
    from types_boto3_dynamodb import DynamoDBClient
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' or cookiecutter.include_stream == 'y' %}
    from types_boto3_dynamodbstreams import DynamoDBStreamsClient
    from types_boto3_lambda import LambdaClient
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}
    from types_boto3_s3 import S3Client
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}
    from types_boto3_sns import SNSClient
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' or cookiecutter.include_stream == 'y' %}
    from types_boto3_sqs import SQSClient
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}
    from types_boto3_stepfunctions import SFNClient
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_stream == 'y' %}
    from types_boto3_sts import STSClient
{%- endif %}


def _region() -> str:
    """The region every client is made for."""
    return get_settings().aws_region


@cache
def dynamodb_client() -> "DynamoDBClient":
    """The process-wide DynamoDB client (for the low-level calls PynamoDB does not make)."""
    return boto3.client("dynamodb", region_name=_region())
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' or cookiecutter.include_stream == 'y' %}


@cache
def dynamodb_streams_client() -> "DynamoDBStreamsClient":
    """The process-wide DynamoDB Streams client (the redrive script reads failed batches back)."""
    return boto3.client("dynamodbstreams", region_name=_region())


@cache
def lambda_client() -> "LambdaClient":
    """The process-wide Lambda client (the redrive script invokes a stream handler again)."""
    return boto3.client("lambda", region_name=_region())
{%- endif %}
{%- if cookiecutter.include_uploads == 'y' %}


@cache
def s3_client() -> "S3Client":
    """The process-wide S3 client."""
    return boto3.client("s3", region_name=_region())
{%- endif %}
{%- if cookiecutter.include_stream == 'y' %}


@cache
def sns_client() -> "SNSClient":
    """The process-wide SNS client."""
    return boto3.client("sns", region_name=_region())
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_uploads == 'y' or cookiecutter.include_stream == 'y' %}


@cache
def sqs_client() -> "SQSClient":
    """The process-wide SQS client."""
    return boto3.client("sqs", region_name=_region())


@cache
def queue_url(queue_name: str) -> str:
    """Return the URL of a queue by its name (looked up once per cold start)."""
    return sqs_client().get_queue_url(QueueName=queue_name)["QueueUrl"]
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}


@cache
def stepfunctions_client() -> "SFNClient":
    """The process-wide Step Functions client."""
    return boto3.client("stepfunctions", region_name=_region())
{%- endif %}
{%- if cookiecutter.include_orders == 'y' or cookiecutter.include_stream == 'y' %}


@cache
def sts_client() -> "STSClient":
    """The process-wide STS client."""
    return boto3.client("sts", region_name=_region())


@cache
def account_id() -> str:
    """Return the AWS account id (asked once per cold start: ARNs need it, env vars cannot hold it)."""
    return sts_client().get_caller_identity()["Account"]
{%- endif %}
{%- if cookiecutter.include_orders == 'y' %}


def transaction_failed_transiently(reasons: list[Any] | None) -> bool:
    """True when a cancelled DynamoDB transaction lost a race or was throttled (worth retrying)."""
    codes = {getattr(reason, "code", None) for reason in reasons or [] if reason is not None}
    return bool(codes & {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
{%- endif %}
