"""A batch that fails some records reads as `k of n failed: why` on the console and in the status view, never `ok`."""

import json
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from chalice.app import Chalice, SQSEvent

from chalice_devstack.functions import FunctionRegistry
from chalice_devstack.project import Project
from chalice_devstack.status import render
from chalice_devstack.triggers.base import BatchItems, to_cfn_resource_name
from tests.conftest import TEST_REGION


def batch_app() -> Chalice:
    """An SQS consumer on Powertools' batch processor (poison bodies fail), one that fails silently, one that raises."""
    app = Chalice(app_name="batches")

    def take(record: SQSRecord) -> None:
        json.loads(record.body)  # a poison body raises JSONDecodeError

    @app.on_sqs_message(queue="orders")
    def consume(event: SQSEvent) -> dict[str, Any]:
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return dict(process_partial_response(event=event.to_dict(), record_handler=take, processor=processor))

    @app.on_sqs_message(queue="quiet")
    def quiet(event: SQSEvent) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": record.to_dict()["messageId"]} for record in event][:1]}

    @app.on_sqs_message(queue="crash")
    def crash(event: SQSEvent) -> None:
        raise RuntimeError("database is down")

    return app


def sqs_batch(*bodies: str) -> tuple[dict[str, Any], BatchItems]:
    """An SQS event with distinct message ids, and the items a poller hands over with it."""
    ids = tuple(f"m-{n}" for n in range(len(bodies)))
    records = [{"messageId": i, "receiptHandle": i, "body": b} for i, b in zip(ids, bodies, strict=True)]
    return {"Records": records}, BatchItems(ids, report_item_failures=True)


@pytest.fixture
def console(tiny_project: Project) -> tuple[FunctionRegistry, list[str]]:
    """Given: the batch app's functions in a registry whose console lines are kept."""
    lines: list[str] = []
    return FunctionRegistry(batch_app(), tiny_project, "dev", TEST_REGION, echo=lines.append), lines


def test_a_poison_message_alone_is_one_of_one_failed_with_the_records_error(
    console: tuple[FunctionRegistry, list[str]],
) -> None:
    registry, lines = console
    event, items = sqs_batch("{not json")

    result = registry.invoke("consume", event, "sqs:orders", items)

    assert result.ok and result.failed_items == 1
    assert " 1 of 1 failed: JSONDecodeError: Expecting property name enclosed in double quotes" in lines[-1]
    assert " ok" not in lines[-1]


def test_a_partly_failed_batch_counts_its_failures_and_status_lists_them(
    console: tuple[FunctionRegistry, list[str]],
) -> None:
    registry, lines = console
    event, items = sqs_batch("{}", "oops", "[]")
    registry.invoke("consume", event, "sqs:orders", items)
    good, good_items = sqs_batch("{}")
    registry.invoke("consume", good, "sqs:orders", good_items)

    text = render({"queues": [], "state_machines": [], **status_lists(registry)})

    assert lines[0].endswith("1 of 3 failed: JSONDecodeError: Expecting value: line 1 column 1 (char 0)")
    assert lines[1].endswith(" ok")
    errors = text.split("recent errors:\n", 1)[1].splitlines()
    assert len(errors) == 1 and "consume <- sqs:orders" in errors[0] and "1 of 3 failed: JSONDecodeError" in errors[0]


def status_lists(registry: FunctionRegistry) -> dict[str, Any]:
    """The invocation lists of the status view over the registry's ring."""
    from chalice_devstack.status import status

    data = status(lambda service: None, {"Resources": {}}, None, registry.recent())  # type: ignore[arg-type]
    return {"invocations": data["invocations"], "errors": data["errors"]}


def test_failures_named_without_an_error_and_a_raising_batch_say_so(
    console: tuple[FunctionRegistry, list[str]],
) -> None:
    registry, lines = console
    event, items = sqs_batch("a", "b")
    registry.invoke("quiet", event, "sqs:quiet", items)
    registry.invoke("crash", event, "sqs:crash", items)

    assert lines[0].endswith(
        "1 of 2 failed: no reason given (the function named them in batchItemFailures without raising)"
    )
    assert lines[-1].endswith("ERROR 2 of 2 failed: RuntimeError: database is down")


def test_without_report_batch_item_failures_a_returned_list_is_a_success_as_on_aws(
    console: tuple[FunctionRegistry, list[str]],
) -> None:
    registry, lines = console
    event, items = sqs_batch("a", "b")
    registry.invoke("quiet", event, "sqs:quiet", BatchItems(items.ids, report_item_failures=False))
    assert lines[-1].endswith(" ok")


NAMES = ["handle_orders", "on-upload", "a__b--c", "x", "sweep_stale_items-sqs-event-source", "9lives_x"]


@pytest.mark.parametrize("name", NAMES)
def test_resource_names_are_the_ones_chalice_package_writes(name: str) -> None:
    """Given a function or event source name, devstack looks up the resource `chalice package` would name."""
    from chalice.utils import to_cfn_resource_name as chalice_name

    assert to_cfn_resource_name(name) == chalice_name(name)
