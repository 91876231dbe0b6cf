"""The browser console's HTTP side against a running devstack (tests/apps/saga): the page, its feed, its buttons."""

import json
import urllib.request
from typing import Any
from urllib.error import HTTPError

from chalice_devstack.testing import Devstack

CONSOLE = "/_devstack/console/"


def get(devstack: Devstack, path: str) -> tuple[int, str, bytes]:
    """GET a console path: status, content type, body."""
    with urllib.request.urlopen(f"{devstack.endpoint_url}{CONSOLE}{path}", timeout=30) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def feed(devstack: Devstack, query: str = "") -> Any:
    """The console's JSON feed."""
    return json.loads(get(devstack, f"feed{query}")[2])


def post(devstack: Devstack, path: str, headers: dict[str, str]) -> tuple[int, Any]:
    """POST to a console path; status and JSON body."""
    request = urllib.request.Request(f"{devstack.endpoint_url}{path}", data=b"", method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except HTTPError as error:
        return error.code, json.loads(error.read())


def queue(data: Any, name: str) -> Any:
    """One queue's row of the feed."""
    return next(row for row in data["queues"] if row["queue"] == name)


def test_the_page_and_its_assets_are_served_from_the_package(saga_devstack: Devstack) -> None:
    # When
    page, script, style = get(saga_devstack, ""), get(saga_devstack, "console.js"), get(saga_devstack, "console.css")
    # Then: plain files, nothing fetched from elsewhere
    assert page[0] == 200 and page[1].startswith("text/html") and b'src="console.js"' in page[2]
    assert script[1].startswith("text/javascript") and b"fetch(`feed" in script[2]
    assert style[1].startswith("text/css")
    assert b"http" not in page[2].replace(b'"http://www.w3.org', b"")


def test_the_feed_shows_a_queue_and_the_messages_it_holds_without_receiving_them(saga_devstack: Devstack) -> None:
    # Given: a message on a queue nothing reads
    sqs = saga_devstack.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="saga-audit")["QueueUrl"], MessageBody='{"audit": 1}')
    # When
    audit = saga_devstack.wait_until(lambda: (row := queue(feed(saga_devstack), "saga-audit"))["visible"] and row)
    # Then: its depth and body, and reading it twice did not receive it
    assert audit["messages"][0]["body"] == '{"audit": 1}'
    assert audit["messages"][0]["receive_count"] == 0 and audit["messages"][0]["state"] == "visible"
    assert queue(feed(saga_devstack), "saga-audit")["messages"][0]["receive_count"] == 0
    assert audit["redrive_to"] is None and not audit["dlq"]


def test_a_poison_message_reaches_the_dlq_and_the_redrive_button_moves_it_back(saga_devstack: Devstack) -> None:
    # Given: a message the orders function always fails (maxReceiveCount 1)
    sqs = saga_devstack.client("sqs")
    sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="saga-orders")["QueueUrl"], MessageBody="poison")
    dlq = saga_devstack.wait_until(lambda: (row := queue(feed(saga_devstack), "saga-orders-dlq"))["visible"] and row)
    assert dlq["dlq"] and dlq["redrive_to"] == "saga-orders" and dlq["messages"][0]["body"] == "poison"
    # When: the button's request, without and with the console's header
    refused = post(saga_devstack, f"{CONSOLE}redrive/OrdersDeadLetterQueue", {})
    status, moved = post(saga_devstack, f"{CONSOLE}redrive/OrdersDeadLetterQueue", {"X-Devstack-Console": "1"})
    # Then: `make redrive`'s code moved it back to its queue
    assert refused[0] == 403
    assert status == 200 and moved["moved"] == 1 and moved["queue"] == "saga-orders"
    invocations = feed(saga_devstack)["invocations"]
    failed = next(item for item in invocations if item["function"] == "orders")
    assert failed["outcome"] == "ERROR 1 of 1 failed: ValueError: poison message"
    assert "order message poison" in failed["log"]


def test_the_feed_draws_the_saga_and_the_path_a_declined_order_took(saga_devstack: Devstack) -> None:
    # Given: one order confirmed, one declined (compensated)
    sfn = saga_devstack.client("stepfunctions")
    arn = sfn.list_state_machines()["stateMachines"][0]["stateMachineArn"]
    sfn.start_execution(stateMachineArn=arn, name="order-ok", input=json.dumps({"order": "ok"}))
    sfn.start_execution(stateMachineArn=arn, name="order-declined", input=json.dumps({"order": "d", "decline": True}))

    def both_done() -> Any:
        machine = feed(saga_devstack, "?select=OrderSaga:order-declined")["state_machines"][0]
        statuses = {e["name"]: e["status"] for e in machine["executions"]}
        return statuses.get("order-ok") == "SUCCEEDED" and statuses.get("order-declined") == "FAILED" and machine

    # When
    machine = saga_devstack.wait_until(both_done)
    # Then: the graph from the ASL, compensations marked, the declined path with its failed states
    nodes = {node["name"]: node for node in machine["graph"]["nodes"]}
    assert set(nodes) == {"Reserve", "Charge", "Confirm", "Confirmed", "Release", "Cancelled"}
    assert [n for n, node in nodes.items() if node["compensation"]] == ["Release", "Cancelled"]
    catch = {"source": "Charge", "target": "Release", "kind": "catch", "label": "PaymentDeclined"}
    assert catch in machine["graph"]["edges"]
    selected = machine["selected"]
    assert selected["name"] == "order-declined" and selected["path"] == ["Reserve", "Charge", "Release", "Cancelled"]
    assert selected["failures"] == {"Charge": "PaymentDeclined", "Cancelled": "OrderCancelled"}
    happy = feed(saga_devstack, "?select=OrderSaga:order-ok")["state_machines"][0]["selected"]
    assert happy["path"] == ["Reserve", "Charge", "Confirm", "Confirmed"] and happy["failures"] == {}
    released = next(item for item in feed(saga_devstack)["invocations"] if item["function"] == "release")
    assert released["correlation_ids"] == ["d"] and released["trigger"] == "invoke"


def test_the_feed_shows_stream_positions_and_schedules_and_fire_now_runs_make_triggers_code(
    saga_devstack: Devstack,
) -> None:
    # Given: a change on the ledger table
    saga_devstack.client("dynamodb").put_item(TableName="saga-ledger", Item={"id": {"S": "entry-1"}})
    # When
    stream = saga_devstack.wait_until(lambda: (s := feed(saga_devstack)["streams"][0])["shards"][0]["position"] and s)
    status, fired = post(saga_devstack, "/_devstack/schedules/nightly", {"X-Devstack-Console": "1"})
    # Then
    assert stream["function"] == "ledger" and stream["stream"].startswith("table/saga-ledger/stream/")
    assert stream["shards"][0]["batch"] is None
    schedule = feed(saga_devstack)["schedules"][0]
    assert schedule["function"] == "nightly" and schedule["expression"] == "rate(1 day)" and schedule["next"]
    assert status == 200 and fired["ok"] and fired["payload"] == {"swept": "nothing"}
    nightly = next(item for item in feed(saga_devstack)["invocations"] if item["function"] == "nightly")
    assert nightly["trigger"] == "schedule:rate(1 day)" and nightly["outcome"] == "ok"
