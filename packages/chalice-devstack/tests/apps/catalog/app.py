"""A small catalog service for devstack's tooling tests: an API over a table, a queue, a stream, a schedule."""

import json
import os
from typing import Any

import boto3
from chalice import Chalice, Rate

app = Chalice(app_name="catalog")
# A placeholder ARN: the decorator needs one at import, before the table (and its stream) exists;
# the resources file binds the real stream.
STREAM_PLACEHOLDER = "arn:aws:dynamodb:us-east-1:123456789012:table/catalog/stream/placeholder"


def table() -> Any:
    """The items table, named by the stage's environment."""
    return boto3.resource("dynamodb").Table(os.environ["ITEMS_TABLE"])


@app.route("/items/{item_id}")
def get_item(item_id: str) -> dict[str, Any]:
    """One item, or an empty object when there is none."""
    return dict(table().get_item(Key={"id": item_id}).get("Item", {}))


@app.route("/items", methods=["POST"])
def put_item() -> dict[str, Any]:
    """Store the posted item."""
    item = app.current_request.json_body
    table().put_item(Item=item)
    return dict(item)


@app.on_sqs_message(queue="catalog-dev-imports", batch_size=5)
def import_items(event: Any) -> None:
    """Store each message's item."""
    for record in event:
        table().put_item(Item=json.loads(record.body))


@app.on_dynamodb_record(stream_arn=STREAM_PLACEHOLDER)
def count_items(event: Any) -> None:
    """Log each change (a real service would keep counters)."""
    for record in event:
        print(json.dumps({"event": record.event_name, "keys": record.keys}))


@app.schedule(Rate(1, unit=Rate.DAYS))
def nightly(event: Any) -> dict[str, int]:
    """Count the items."""
    return {"items": table().scan(Select="COUNT")["Count"]}
