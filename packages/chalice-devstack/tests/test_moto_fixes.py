"""devstack's moto fixes: a cancelled DynamoDB transaction writes nothing and leaves the stream readable."""

import json
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from chalice_devstack import moto_fixes
from tests.conftest import TEST_REGION

TABLE = "fixes"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """Given: moto with the fixes applied and a table with a stream."""
    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=TEST_REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        yield client


def put_if_absent(pk: str) -> dict[str, Any]:
    """A transaction item that creates pk only if it does not exist yet."""
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}}, "ConditionExpression": "attribute_not_exists(pk)"}}


def stream_reader(client: Any) -> tuple[Any, str]:
    """A streams client and a LATEST iterator on the table's only shard."""
    streams = boto3.client("dynamodbstreams", region_name=TEST_REGION)
    arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    return streams, iterator


def test_a_cancelled_transaction_writes_nothing_and_names_the_failed_condition(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})

    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(TransactItems=[put_if_absent("new"), put_if_absent("taken")])

    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "new"}})


def test_a_successful_transaction_writes_every_item(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put_if_absent("a"), put_if_absent("b")])

    assert dynamodb.scan(TableName=TABLE)["Count"] == 2


def test_the_stream_keeps_flowing_to_existing_readers_after_a_cancelled_transaction(dynamodb: Any) -> None:
    streams, iterator = stream_reader(dynamodb)
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "taken"}})
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put_if_absent("taken")])
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "after"}})

    records = streams.get_records(ShardIterator=iterator)["Records"]

    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in records] == ["taken", "after"]


def test_one_update_expression_parsed_once_updates_each_item_with_its_own_values(dynamodb: Any) -> None:
    """Given one UpdateExpression used three times, each item gets its values, and a bad expression fails each time."""
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]  # untyped

    expression = "SET n = if_not_exists(n, :zero) + :step, tag = :tag"
    for pk, step in (("a", 1), ("b", 5), ("a", 2)):
        dynamodb.update_item(
            TableName=TABLE,
            Key={"pk": {"S": pk}},
            UpdateExpression=expression,
            ExpressionAttributeValues={":zero": {"N": "0"}, ":step": {"N": str(step)}, ":tag": {"S": f"{pk}{step}"}},
        )
    items = {item["pk"]["S"]: item for item in dynamodb.scan(TableName=TABLE)["Items"]}
    for _ in range(2):
        with pytest.raises(ClientError):
            dynamodb.update_item(TableName=TABLE, Key={"pk": {"S": "a"}}, UpdateExpression="SET = broken")

    assert {pk: (item["n"]["N"], item["tag"]["S"]) for pk, item in items.items()} == {
        "a": ("3", "a2"),
        "b": ("5", "b5"),
    }
    assert UpdateExpressionParser.make.cache_info().hits >= 2
    assert "_devstack_pickle" in vars(UpdateExpressionParser.make(expression))  # each update's copy came from it


def test_two_operations_on_one_item_are_rejected(dynamodb: Any) -> None:
    with pytest.raises(ClientError, match="multiple operations"):
        dynamodb.transact_write_items(TransactItems=[put_if_absent("x"), put_if_absent("x")])


def test_concurrent_conditional_puts_of_one_key_let_exactly_one_through(dynamodb: Any) -> None:
    """Given 8 threads putting each of 25 keys only if absent, When they race, Then each key is created once."""
    barrier = threading.Barrier(8)
    # Made here, before the threads: botocore builds a client's exception classes on first use, and two
    # threads racing there can each get their own class, so a raised error would not match the except below.
    conflict = dynamodb.exceptions.ConditionalCheckFailedException

    def claim(worker: int) -> int:
        barrier.wait()
        won = 0
        for n in range(25):
            try:
                dynamodb.put_item(
                    TableName=TABLE,
                    Item={"pk": {"S": f"key-{n}"}, "by": {"N": str(worker)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                won += 1
            except conflict:
                pass
        return won

    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often, so an unlocked check-then-write does interleave
    try:
        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(claim, range(8))) == 25
    finally:
        sys.setswitchinterval(switch)


def test_responses_read_the_same_with_the_serializer_cache(dynamodb: Any) -> None:
    """Given an item of every attribute type, when read back twice (the second from the cache), it is unchanged."""
    item = {
        "pk": {"S": "all-types"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x00\x01"},
        "flag": {"BOOL": True},
        "none": {"NULL": True},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"M": {"deep": {"N": "3"}}}]}}},
    }
    dynamodb.put_item(TableName=TABLE, Item=item)
    reads = [dynamodb.get_item(TableName=TABLE, Key={"pk": item["pk"]})["Item"] for _ in range(2)]
    assert reads == [item, item]
    assert len(moto_fixes._POSSIBLE_KEYS) > 0  # the serializer went through the cache
    described = dynamodb.describe_table(TableName=TABLE)["Table"]
    assert (described["TableName"], described["KeySchema"][0]["AttributeName"]) == (TABLE, "pk")


def test_executions_of_one_definition_share_its_parse_tree_and_each_runs_its_own_program() -> None:
    """Given a state machine on moto's interpreter, when it runs twice with different input, each gets its output."""
    definition = json.dumps(
        {
            "StartAt": "Double",
            "States": {"Double": {"Type": "Pass", "Parameters": {"twice.$": "States.MathAdd($.n, $.n)"}, "End": True}},
        }
    )
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        sfn = boto3.client("stepfunctions", region_name=TEST_REGION)
        arn = sfn.create_state_machine(name="pure", definition=definition, roleArn=ROLE)["stateMachineArn"]
        moto_fixes.speed_up_step_functions()  # the interpreter is loaded now, as after devstack's warm-up
        parses = parse_tree_count()
        outputs = [run_to_end(sfn, arn, {"n": n}) for n in (2, 5)]

    assert outputs == [{"twice": 4}, {"twice": 10}]
    assert parse_tree_count() - parses <= 1  # at most the first execution parsed (the create may have already)


def test_step_functions_tasks_share_one_client_per_region_and_service() -> None:
    """Given moto's interpreter loaded, when its tasks ask for a Lambda client twice, they get the same one."""
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    with mock_aws():
        moto_fixes.speed_up_step_functions()
        client_for = vars(lambda_eval_utils)["boto_client_for"]  # the name the module imported, as tasks call it
        clients = [client_for(region=TEST_REGION, service="lambda") for _ in range(2)]

    assert clients[0] is clients[1]


def test_queue_counts_with_messages_visible_in_flight_and_delayed() -> None:
    """Given messages visible, received (in flight) and delayed, the queue's attributes count each kind."""
    moto_fixes.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=TEST_REGION)
        url = sqs.create_queue(QueueName="counted")["QueueUrl"]
        for body in ("a", "b", "c"):
            sqs.send_message(QueueUrl=url, MessageBody=body)
        sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1, VisibilityTimeout=60)
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        names.append("ApproximateNumberOfMessagesDelayed")
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]

    assert counts == dict(zip(names, ["2", "1", "1"], strict=True))


def test_a_long_poll_hides_a_message_for_the_visibility_timeout_in_force_when_it_takes_it() -> None:
    """Given a long poll waiting on an empty queue, when the queue's VisibilityTimeout drops to 1 s and a message
    arrives, then the poll hides the message for 1 s, not for the 60 s in force when the poll began."""
    from moto.sqs.models import sqs_backends

    moto_fixes.apply()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=TEST_REGION)
        url = sqs.create_queue(QueueName="shortened", Attributes={"VisibilityTimeout": "60"})["QueueUrl"]
        queue = sqs_backends["123456789012"][TEST_REGION].queues["shortened"]
        with ThreadPoolExecutor(1) as pool:
            poll = pool.submit(sqs.receive_message, QueueUrl=url, WaitTimeSeconds=5)
            waiting_poll(queue)
            sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "1"})
            sent_ms = time.time() * 1000
            sqs.send_message(QueueUrl=url, MessageBody="late")
            assert len(poll.result(timeout=10)["Messages"]) == 1
        hidden_ms = queue._messages[0].visible_at - sent_ms

    assert hidden_ms < 5_000


def waiting_poll(queue: Any) -> None:
    """Return once a ReceiveMessage long poll waits on the moto queue (a short poll of the queue's waiters)."""
    deadline = time.monotonic() + 10
    while not queue._messages_lock._waiters:
        assert time.monotonic() < deadline, "no long poll started"
        time.sleep(0.01)


def test_each_request_is_routed_to_its_operation_once(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given: the fixed moto, counting how often its routers look for an operation
    from moto.core.routing import JSONRouter

    looks: list[str] = []
    match = JSONRouter._match

    def looked(self: JSONRouter, request: Any) -> Any:
        looks.append(request.path)
        return match(self, request)

    monkeypatch.setattr(JSONRouter, "_match", looked)
    sqs = boto3.client("sqs", region_name=TEST_REGION)
    url = sqs.create_queue(QueueName="routed")["QueueUrl"]
    looks.clear()
    # When: a DynamoDB call and an SQS call (whose router knows a queue-URL path) each arrive
    dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": "routed"}})
    sqs.send_message(QueueUrl=url, MessageBody="routed")
    # Then: each was routed once, and both did what they asked
    assert looks == ["/", "/"]
    assert dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": "routed"}})["Item"] == {"pk": {"S": "routed"}}
    assert sqs.receive_message(QueueUrl=url)["Messages"][0]["Body"] == "routed"


def test_responses_read_the_same_when_structures_are_asked_only_for_their_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given an item of every attribute type, queue messages and a state machine, then every answer reads the same
    whether the serializer asks a dict for every member of a structure (moto's way) or only those it holds."""
    from moto.core.serialize import ResponseSerializer

    moto_fixes.apply()
    write = moto_fixes._dynamodb_value
    values: list[Any] = []

    def noted(serializer: Any, value: dict[str, Any]) -> Any:
        values.append(value)
        return write(serializer, value)

    monkeypatch.setattr(moto_fixes, "_dynamodb_value", noted)
    fixed = answers_of_every_shape()
    assert {"NULL": True} in values  # item values, down to the nested ones, went the short way
    monkeypatch.setattr(ResponseSerializer, "_serialize_type_structure", moto_fixes._MOTO_STRUCTURE)
    assert answers_of_every_shape() == fixed


def stream_images(dynamodb: Any, table: str) -> list[Any]:
    """The keys and images of the records on a table's stream (not their ids and times, new for every table)."""
    streams = boto3.client("dynamodbstreams", region_name=TEST_REGION)
    arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    images = ("Keys", "NewImage", "OldImage")
    return [{name: record["dynamodb"].get(name) for name in images} for record in records]


def answers_of_every_shape() -> list[Any]:
    """DynamoDB, SQS and Step Functions answers with nested structures, maps, lists, sets and binaries."""
    item = {
        "pk": {"S": "k"},
        "n": {"N": "1.5"},
        "b": {"B": b"\x00\x01"},
        "ss": {"SS": ["a", "b"]},
        "ns": {"NS": ["1", "2"]},
        "bs": {"BS": [b"x"]},
        "m": {"M": {"inner": {"L": [{"S": "x"}, {"NULL": True}, {"BOOL": False}, {"M": {}}]}}},
    }
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=TEST_REGION)
        dynamodb.create_table(
            TableName="shapes",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        dynamodb.put_item(TableName="shapes", Item=item)
        sqs = boto3.client("sqs", region_name=TEST_REGION)
        url = sqs.create_queue(QueueName="shapes")["QueueUrl"]
        attributes = {
            "kind": {"DataType": "String", "StringValue": "a"},
            "raw": {"DataType": "Binary", "BinaryValue": b"1"},
        }
        sqs.send_message(QueueUrl=url, MessageBody="m", MessageAttributes=attributes)
        answers = [
            dynamodb.get_item(TableName="shapes", Key={"pk": {"S": "k"}}, ReturnConsumedCapacity="TOTAL"),
            dynamodb.query(
                TableName="shapes", KeyConditionExpression="pk = :k", ExpressionAttributeValues={":k": {"S": "k"}}
            ),
            dynamodb.batch_get_item(RequestItems={"shapes": {"Keys": [{"pk": {"S": "k"}}]}}),
            dynamodb.update_item(
                TableName="shapes",
                Key={"pk": {"S": "k"}},
                UpdateExpression="SET n = :n",
                ExpressionAttributeValues={":n": {"N": "2"}},
                ReturnValues="ALL_NEW",
            ),
            dynamodb.describe_table(TableName="shapes")["Table"]["KeySchema"],
            stream_images(dynamodb, "shapes"),
            sqs.receive_message(QueueUrl=url, MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"]),
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "VisibilityTimeout"]),
        ]
    for answer in answers:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)
            for message in answer.get("Messages", []):
                message.pop("ReceiptHandle")  # these two are new for every message and receive
                message.pop("MessageId")
                message["Attributes"] = {k: v for k, v in message["Attributes"].items() if "Timestamp" not in k}
    return answers


def test_the_server_finds_each_host_s_service_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given moto's server app, when it dispatches two requests to one host, it looks the host up once."""
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    moto_fixes.dispatch_by_cached_host()
    lookups: list[str] = []
    listed = backends.list_of_moto_modules

    def list_of_moto_modules() -> Any:
        lookups.append("listed")
        return listed()

    monkeypatch.setattr(backends, "list_of_moto_modules", list_of_moto_modules)
    server = DomainDispatcherApplication(create_backend_app)
    found = [server.get_backend_for_host(f"sqs.{TEST_REGION}.amazonaws.com") for _ in range(2)]

    assert found == ["sqs", "sqs"]
    assert lookups == ["listed"]


ROLE = "arn:aws:iam::123456789012:role/machine"


def parse_tree_count() -> int:
    """How many definitions the interpreter has parsed since the cache was installed."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    parse: Any = AmazonStateLanguageParser.parse
    assert getattr(parse, "keeps_trees", False)
    return int(parse.trees.cache_info().misses)


def run_to_end(sfn: Any, arn: str, payload: dict[str, Any]) -> Any:
    """Start an execution and wait (short polls) for its output."""
    name = f"run-{len(sfn.list_executions(stateMachineArn=arn)['executions'])}"
    execution = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]
    deadline = time.monotonic() + 10
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.01)
    assert described["status"] == "SUCCEEDED", described
    return json.loads(described["output"])
