"""SDK calls answered without Flask read as moto's Flask apps answer them; other requests still go through Flask."""

import json
import re
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from chalice_devstack import moto_calls
from chalice_devstack.endpoint import moto_app
from chalice_devstack.moto_direct import DirectCalls
from tests.conftest import TEST_REGION

CORS_HEADER = "Access-Control-Allow-Origin"  # flask-cors adds it to every answer that goes through Flask
# Read-only calls (their answers are the same twice): JSON, query-form and an error.
CALLS = [
    ("dynamodb", "DynamoDB_20120810.GetItem", json.dumps({"TableName": "direct", "Key": {"pk": {"S": "k"}}})),
    ("dynamodb", "DynamoDB_20120810.GetItem", json.dumps({"TableName": "missing", "Key": {"pk": {"S": "k"}}})),
    ("dynamodb", "DynamoDB_20120810.DescribeTable", json.dumps({"TableName": "direct"})),
    ("sqs", "AmazonSQS.ListQueues", "{}"),
    ("sns", None, "Action=ListTopics&Version=2010-03-31"),
]


@pytest.fixture(scope="module")
def direct() -> DirectCalls:
    """Given: moto's app as the endpoint builds it, a table with an item, a queue and a topic."""
    aws = moto_app(["dynamodb", "sqs", "sns", "s3"])
    assert isinstance(aws, DirectCalls)
    table = {
        "TableName": "direct",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    call(aws, "dynamodb", "DynamoDB_20120810.CreateTable", json.dumps(table))
    item = {"TableName": "direct", "Item": {"pk": {"S": "k"}, "b": {"B": "AAE="}, "n": {"N": "1"}}}
    call(aws, "dynamodb", "DynamoDB_20120810.PutItem", json.dumps(item))
    call(aws, "sqs", "AmazonSQS.CreateQueue", json.dumps({"QueueName": "direct"}))
    call(aws, "sns", None, "Action=CreateTopic&Name=direct&Version=2010-03-31")
    return aws


def call(aws: Any, signing_name: str, target: str | None, body: str) -> TestResponse:
    """One SDK-shaped call to moto in this process."""
    return moto_calls.call(aws, TEST_REGION, signing_name, target, body)


def readable(answer: TestResponse) -> tuple[int, str | None, str]:
    """An answer's status, content type and body, its request id blanked (new for every answer)."""
    return answer.status_code, answer.content_type, re.sub(r"<RequestId>[^<]*<", "<RequestId><", answer.get_data(True))


@pytest.mark.parametrize(("signing_name", "target", "body"), CALLS, ids=[f"{s}-{t or b[:14]}" for s, t, b in CALLS])
def test_an_sdk_call_answered_directly_reads_as_through_flask(
    direct: DirectCalls, signing_name: str, target: str | None, body: str
) -> None:
    # When: the same call goes the direct way and through moto's Flask app
    straight = call(direct, signing_name, target, body)
    through_flask = call(direct.aws, signing_name, target, body)
    # Then: the same status, content type and body; only Flask's CORS hook wrote its header
    assert readable(straight) == readable(through_flask)
    assert CORS_HEADER not in straight.headers and CORS_HEADER in through_flask.headers


def test_a_browser_request_and_a_path_still_go_through_flask(direct: DirectCalls) -> None:
    # When: a call with an Origin (a browser's, which wants CORS headers), and S3's GET / (ListBuckets)
    scope = f"devstack/20260101/{TEST_REGION}/sqs/aws4_request"
    browser = Client(direct).post(
        "/",
        headers={
            "Origin": "http://localhost:3000",
            "Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0",
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "Content-Type": "application/x-amz-json-1.0",
        },
        data="{}",
    )
    buckets = call(direct, "s3", None, "")
    # Then: both answered, through Flask (its CORS header), S3 with its XML
    assert browser.status_code == 200 and browser.headers[CORS_HEADER] == "http://localhost:3000"
    assert "direct" in json.loads(browser.get_data())["QueueUrls"][0]
    assert buckets.status_code == 200 and "ListAllMyBucketsResult" in buckets.get_data(True)
    assert CORS_HEADER in buckets.headers
