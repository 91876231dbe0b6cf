"""Hooks in moto that tell devstack's pollers a source has something to read (triggers/wakes.py).

Hooked where moto changes the state, not where a request arrives, so every path counts:
SendMessage(Batch), S3/SNS/EventBridge deliveries to a queue and DLQ moves all add a message
(`Queue.add_message`); ChangeMessageVisibility(Batch) makes one visible now or later; every DynamoDB
write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, PartiQL) of a
stream-enabled table appends a record (`StreamShard.add`); a Kinesis put adds a record
(`Stream.put_record`; PutRecords once, after its last record). The notice goes after moto's own
method returns, so the state is there when the poller reads. A sweep every `SWEEP_SECONDS` reports
the queues where a message turned visible meanwhile (a visibility timeout or DelaySeconds ended): a
look at moto's objects in this process, far cheaper than each poller asking over HTTP. Pinned to the
moto minor version devstack is tested against.
"""

import functools
import threading
import time
from collections.abc import Callable
from typing import Any

from chalice_devstack.triggers.wakes import SHARED, Notify

SWEEP_SECONDS = 1.0

_listener: list[Notify] = [SHARED.notify]
_installed: list[bool] = []


def install(notify: Notify | None = None) -> None:
    """Send moto's notices to `notify` (default: this process's pollers); patch moto once per process."""
    _listener[0] = notify or SHARED.notify
    if _installed:
        return
    from moto.dynamodb.models.table import StreamShard
    from moto.kinesis.models import KinesisBackend, Stream
    from moto.sqs.models import Queue, SQSBackend

    _after(Queue, "add_message", lambda queue, message: _notify(f"sqs:{queue.name}"))
    _after(
        SQSBackend,
        "change_message_visibility",
        lambda _backend, queue_name, receipt_handle, visibility_timeout: _notify(
            f"sqs:{queue_name}", float(visibility_timeout)
        ),
    )
    _after(StreamShard, "add", lambda shard, old, new: _notify(f"dynamodb:{shard.table.name}"))
    _after(Stream, "put_record", _record_put)
    _hold_notices_during(KinesisBackend, "put_records", _records_put)
    _installed.append(True)
    threading.Thread(target=_sweep_visibility, name="devstack-visibility-sweep", daemon=True).start()


def _notify(key: str, delay: float = 0.0) -> None:
    _listener[0](key, delay)


# PutRecords adds its records one by one: the poller is told once, after the last, so that it reads them
# in one batch as Lambda would, not the first record alone.
_batch = threading.local()


def _record_put(stream: Any, *_args: Any, **_kwargs: Any) -> None:
    if not getattr(_batch, "open", False):
        _notify(f"kinesis:{stream.stream_name}")


def _records_put(backend: Any, stream_arn: str | None, stream_name: str | None, *_args: Any) -> None:
    _notify(f"kinesis:{backend.describe_stream(stream_arn=stream_arn, stream_name=stream_name).stream_name}")


def _hold_notices_during(owner: type, name: str, notice: Callable[..., None]) -> None:
    """Wrap owner.name so that the record notices inside it wait, and `notice` goes once it has returned."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def batched(self: Any, *args: Any, **kwargs: Any) -> Any:
        _batch.open = True
        try:
            result = original(self, *args, **kwargs)
        finally:
            _batch.open = False
        notice(self, *args, **kwargs)
        return result

    setattr(owner, name, batched)


def _sweep_visibility() -> None:
    """Every SWEEP_SECONDS, notify each queue where a message turned visible since the last sweep."""
    from moto.sqs.models import sqs_backends

    last = time.time() * 1000
    while True:
        time.sleep(SWEEP_SECONDS)
        now = time.time() * 1000
        for queue in _queues(sqs_backends):
            if any(last < max(m.visible_at, m.delayed_until) <= now for m in list(queue._messages)):
                _notify(f"sqs:{queue.name}")
        last = now


def _queues(backends: Any) -> list[Any]:
    """Every queue moto holds, without making the backends of accounts or regions nobody used."""
    return [
        queue
        for account in list(dict.values(backends))
        for backend in list(dict.values(account))
        for queue in list(backend.queues.values())
    ]


def _after(owner: type, name: str, notice: Callable[..., None]) -> None:
    """Wrap owner.name so that `notice` gets the same arguments once moto's method has returned."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def hooked(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        notice(self, *args, **kwargs)
        return result

    setattr(owner, name, hooked)
