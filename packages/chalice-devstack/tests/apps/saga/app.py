"""A small order saga for the console's tests: a queue with a DLQ, a table stream, a schedule and a state machine.

`reserve -> charge -> confirm`; a declined charge is caught and compensated (`release`, then the
`Cancelled` failure). A message whose body is "poison" fails every time, so it ends in the DLQ.
"""

import json
from typing import Any

from chalice import Chalice, Rate

app = Chalice(app_name="saga")

# Bound to the ledger table's real stream in infra/resources.yaml (Events.LedgerDynamodbEventSource.Stream).
PLACEHOLDER_STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/saga-ledger/stream/1970-01-01T00:00:00.000"


class PaymentDeclined(Exception):
    """The fake provider declined the charge (an outcome the state machine catches)."""


def log(message: str, event: dict[str, Any]) -> None:
    """One JSON log line carrying the order as its correlation id (as Powertools' Logger writes them)."""
    print(json.dumps({"level": "INFO", "message": message, "correlation_id": event.get("order")}))


@app.lambda_function(name="reserve")
def reserve(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reserves the order's items (always succeeds)."""
    log("reserved", event)
    return {**event, "reserved": True}


@app.lambda_function(name="charge")
def charge(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Charges the order; an order marked `decline` is declined."""
    log("charging", event)
    if event.get("decline"):
        raise PaymentDeclined(f"card declined for order {event.get('order')}")
    return {**event, "charged": True}


@app.lambda_function(name="confirm")
def confirm(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Confirms the order."""
    return {**event, "confirmed": True}


@app.lambda_function(name="release")
def release(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Releases what reserve took: the compensation."""
    log("released", event)
    return {**event, "released": True}


@app.on_sqs_message(queue="saga-orders", batch_size=5)
def orders(event: Any) -> None:
    """Fails a batch holding a "poison" message; the queue's redrive policy moves it to the DLQ."""
    for record in event:
        print(f"order message {record.body}")
        if record.body == "poison":
            raise ValueError("poison message")


@app.on_dynamodb_record(stream_arn=PLACEHOLDER_STREAM, batch_size=10)
def ledger(event: Any) -> None:
    """Notes each change to the ledger table (its stream is bound in infra/resources.yaml)."""
    for record in event:
        print(f"ledger {record.event_name} {record.keys}")


@app.schedule(Rate(1, unit=Rate.DAYS))
def nightly(event: Any) -> dict[str, str]:
    """A daily sweep (fired on demand by the tests)."""
    return {"swept": "nothing"}
