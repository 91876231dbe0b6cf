"""One in-process moto per test session: put back to its just-provisioned state between tests."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from chalice.app import Chalice

from chalice_devstack.inprocess import InProcessAws
from tests.conftest import TEST_REGION, write_project

RESOURCES = """
Resources:
  Items:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: items
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
      StreamSpecification: {StreamViewType: NEW_IMAGE}
  Inbox:
    Type: AWS::SQS::Queue
    Properties: {QueueName: inbox}
  Files:
    Type: AWS::S3::Bucket
    Properties:
      BucketName: files
      NotificationConfiguration:
        QueueConfigurations: [{Event: "s3:ObjectCreated:*", Queue: {"Fn::GetAtt": [Inbox, Arn]}}]
  Users:
    Type: AWS::Cognito::UserPool
  WebClient:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: {"Ref": "Users"}}
  Admins:
    Type: AWS::Cognito::UserPoolGroup
    Properties: {UserPoolId: {"Ref": "Users"}, GroupName: admin}
"""
POOL_ID = f"{TEST_REGION}_Users"


def client(service: str) -> Any:
    """A boto3 client of the in-process moto."""
    return boto3.client(service, region_name=TEST_REGION)


def inbox_bodies() -> list[str]:
    """Every message body in the inbox queue (visible now)."""
    sqs = client("sqs")
    url = sqs.get_queue_url(QueueName="inbox")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get("Messages", [])
    return [message["Body"] for message in messages]


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[InProcessAws]:
    """Given: a project with a table (and stream), a queue and a bucket notifying it, provisioned in moto."""
    project = write_project(tmp_path / "svc", "svc")
    (project.root / "infra").mkdir()
    (project.root / "infra" / "resources.yaml").write_text(RESOURCES)
    aws = InProcessAws(Chalice(app_name="svc"), project, "dev", TEST_REGION)
    aws.start()
    yield aws
    aws.stop()


def write_everywhere() -> None:
    """What a test leaves behind: an item (and its stream record), an object (and its notification), a message,
    a user of the pool in a group."""
    client("dynamodb").put_item(TableName="items", Item={"id": {"S": "a"}})
    client("s3").put_object(Bucket="files", Key="a.txt", Body=b"a")
    sqs = client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="inbox")["QueueUrl"], MessageBody="left over")
    client("cognito-idp").admin_create_user(UserPoolId=POOL_ID, Username="ada")
    client("cognito-idp").admin_add_user_to_group(UserPoolId=POOL_ID, Username="ada", GroupName="admin")


def stream_records() -> list[Any]:
    """The records on the items table's stream, from its start."""
    streams, table = client("dynamodbstreams"), client("dynamodb").describe_table(TableName="items")["Table"]
    stream = streams.describe_stream(StreamArn=table["LatestStreamArn"])["StreamDescription"]
    shard = stream["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream["StreamArn"], ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )
    return list(streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"])


def test_fresh_clears_what_a_test_wrote_and_keeps_what_provisioning_sent(shared: InProcessAws) -> None:
    """Given data in every service, When fresh() runs, Then items, stream records, objects, messages and users are
    gone (the pool keeps its client and group), but the queue again holds the s3:TestEvent the notification sent."""
    provisioned = inbox_bodies()
    assert len(provisioned) == 1 and "s3:TestEvent" in provisioned[0]
    clients = client("cognito-idp").list_user_pool_clients(UserPoolId=POOL_ID)["UserPoolClients"]
    write_everywhere()

    shared.fresh()

    assert client("dynamodb").scan(TableName="items")["Items"] == []
    assert stream_records() == []
    assert client("s3").list_objects_v2(Bucket="files").get("KeyCount") == 0
    assert inbox_bodies() == provisioned
    idp = client("cognito-idp")
    assert idp.list_users(UserPoolId=POOL_ID)["Users"] == []
    assert idp.list_users_in_group(UserPoolId=POOL_ID, GroupName="admin")["Users"] == []
    assert idp.list_user_pool_clients(UserPoolId=POOL_ID)["UserPoolClients"] == clients  # cleared, not provisioned anew


def test_a_test_that_adds_a_resource_gets_a_fresh_provisioning(shared: InProcessAws) -> None:
    """Given a test created a queue of its own, When fresh() runs, Then that queue is gone and the project's remain."""
    client("sqs").create_queue(QueueName="scratch")

    shared.fresh()

    assert [url.rsplit("/", 1)[1] for url in client("sqs").list_queues()["QueueUrls"]] == ["inbox"]
    assert client("dynamodb").list_tables()["TableNames"] == ["items"]


def test_a_service_the_project_does_not_provision_is_reset_whole(shared: InProcessAws) -> None:
    """Given a test stored a secret (no Secrets Manager in the resources file), When fresh() runs, Then it is gone."""
    client("secretsmanager").create_secret(Name="token", SecretString="s3cr3t")

    shared.fresh()

    assert client("secretsmanager").list_secrets()["SecretList"] == []
