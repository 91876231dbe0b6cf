"""The messages a queue holds, read from moto's backend without receiving them (a receive would count).

SQS has no peek: ReceiveMessage hides the message and raises its receive count, which would change
what the console shows and when the poller gets it. This module runs in the process holding moto
(the endpoint child, or the only process with --single); the Dispatcher answers PEEK_PATH with it.
It reads moto's SQS backend (`Queue._messages`), an internal of the moto minor version devstack pins.
"""

import json
from typing import Any
from urllib.parse import parse_qs

from chalice_devstack.project import LOCAL_ACCOUNT_ID

PREVIEW_CHARS = 200
MAX_MESSAGES = 10


def peek(region: str, queue_name: str, limit: int = MAX_MESSAGES) -> list[dict[str, Any]]:
    """The newest messages of a queue (at most `limit`): id, body preview, receive count, visible or in flight."""
    from moto.sqs.models import sqs_backends

    queue = sqs_backends[LOCAL_ACCOUNT_ID][region].queues.get(queue_name)
    if queue is None:
        return []
    messages = list(queue._messages)[-limit:][::-1]  # moto keeps them oldest first
    return [
        {
            "id": message.id,
            "body": message.body[:PREVIEW_CHARS],
            "truncated": len(message.body) > PREVIEW_CHARS,
            "receive_count": message.approximate_receive_count,
            "sent": message.sent_timestamp,
            "state": "delayed" if message.delayed else "visible" if message.visible else "in flight",
        }
        for message in messages
    ]


def peek_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI: `GET PEEK_PATH?region=R&queue=Q&queue=Q2` -> {queue name: [messages]}."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    region = query.get("region", ["us-east-1"])[0]
    body = json.dumps({name: peek(region, name) for name in query.get("queue", [])}).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
