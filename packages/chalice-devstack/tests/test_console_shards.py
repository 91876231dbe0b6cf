"""What a stream poller tells the console: each shard's batch under way (retries, bisected halves), then its place."""

import threading
from collections.abc import Callable
from typing import Any

from chalice_devstack.pollers import StreamMapping, StreamPoller
from tests.conftest import TEST_REGION
from tests.test_pollers import AppInvoker, Result, clients, make_stream_table, put_items, read_stream, stream_app

__all__ = ["clients"]  # the moto fixture the tests below take


class Watching(AppInvoker):
    """Notes, at each invocation, what the poller tells the console about the shard."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        self.poller: StreamPoller | None = None
        self.seen: list[dict[str, int]] = []

    def invoke(self, name_or_arn: str, event: dict[str, Any], trigger: str, items: Any = None) -> Result:
        assert self.poller is not None
        self.seen += list(self.poller.batches_under_way.values())
        return super().invoke(name_or_arn, event, trigger, items)


def test_the_batch_under_way_shows_its_bisected_halves_and_retries_then_the_checkpoint_moves_on(
    clients: Callable[[str], Any],
) -> None:
    # Given: bisect on error, one retry, a poison record third of four
    app, _ = stream_app()
    stream_arn = make_stream_table(clients)
    put_items(clients, "a", "b", "poison", "d")
    shard, records = read_stream(clients, stream_arn)
    mapping = StreamMapping(
        "handle_changes", "arn:fn", stream_arn, 4, 0, "TRIM_HORIZON", bisect_on_error=True, max_retry_attempts=1
    )
    invoker = Watching(app)
    poller = invoker.poller = StreamPoller(mapping, invoker, clients, TEST_REGION)
    # When
    poller.deliver(records, shard, threading.Event())
    # Then: the whole batch, its halves, the poison quarter and its retry, the last record; then nothing under way
    assert [(seen["records"], seen["retries"]) for seen in invoker.seen] == [
        (4, 0),
        (2, 0),
        (2, 0),
        (1, 0),
        (1, 1),
        (1, 0),
    ]
    assert {seen["of"] for seen in invoker.seen} == {4}
    assert poller.batches_under_way == {}
    assert poller.checkpoints == {shard: records[-1]["dynamodb"]["SequenceNumber"]}
