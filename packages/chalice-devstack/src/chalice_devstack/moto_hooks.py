"""Hooks in moto that tell devstack's pollers a source has something to read (triggers/wakes.py).

Hooked where moto changes the state, not where a request arrives, so every path counts:
SendMessage(Batch), S3/SNS/EventBridge deliveries to a queue and DLQ moves all add a message
(`Queue.add_message`); ChangeMessageVisibility(Batch) makes one visible now or later; every
DynamoDB write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL)
of a stream-enabled table appends a record (`StreamShard.add`); a Kinesis put adds a record
(`Stream.put_record`). The notice goes after moto's own method returns, so the state is there
when the poller reads. Pinned to the moto minor version devstack is tested against.
"""

import functools
import time
from collections.abc import Callable
from typing import Any

from chalice_devstack.triggers.wakes import SHARED, Notify

_listener: list[Notify] = [SHARED.notify]
_installed: list[bool] = []


def install(notify: Notify | None = None) -> None:
    """Send moto's notices to `notify` (default: this process's pollers); patch moto once per process."""
    _listener[0] = notify or SHARED.notify
    if _installed:
        return
    from moto.dynamodb.models.table import StreamShard
    from moto.kinesis.models import Stream
    from moto.sqs.models import Queue, SQSBackend

    _after(Queue, "add_message", lambda queue, message: _queue_notice(queue.name, message))
    _after(
        SQSBackend,
        "change_message_visibility",
        lambda _backend, queue_name, receipt_handle, visibility_timeout: _notify(
            f"sqs:{queue_name}", float(visibility_timeout)
        ),
    )
    _after(StreamShard, "add", lambda shard, old, new: _notify(f"dynamodb:{shard.table.name}"))
    _after(Stream, "put_record", lambda stream, *_args, **_kwargs: _notify(f"kinesis:{stream.stream_name}"))
    _installed.append(True)


def _notify(key: str, delay: float = 0.0) -> None:
    _listener[0](key, delay)


def _queue_notice(queue_name: str, message: Any) -> None:
    """A new message: its queue's pollers now, and again when a DelaySeconds message turns visible."""
    _notify(f"sqs:{queue_name}")
    delayed = float(getattr(message, "delayed_until", 0) or 0) / 1000 - time.time()
    if delayed > 0:
        _notify(f"sqs:{queue_name}", delayed)


def _after(owner: type, name: str, notice: Callable[..., None]) -> None:
    """Wrap owner.name so that `notice` gets the same arguments once moto's method has returned."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        notice(self, *args, **kwargs)
        return result

    setattr(owner, name, hooked)
