"""Event-source pollers that behave like Lambda's event source mappings and async invokers, offline.

What to poll comes from the Chalice app's registered event sources (`app.event_sources`)
plus the mapping settings Chalice cannot express, read from the same partial resource
patches in infra/resources.yaml that `chalice package --merge-template` merges
(`Resources.<Fn>.Properties.Events.<Fn><Kind>EventSource.Properties`). A handler added
later is polled with no devstack change. Every poller is a daemon thread that waits at
most a second at a time, so `Pollers.stop()` returns within a second. One module per
source lives in `chalice_devstack.triggers`; this module puts them together.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chalice.app import (
    Chalice,
    CloudWatchEventConfig,
    DynamoDBEventConfig,
    KinesisEventConfig,
    S3EventConfig,
    ScheduledEventConfig,
    SNSEventConfig,
    SQSEventConfig,
)

from chalice_devstack.intrinsics import Scope
from chalice_devstack.triggers.base import Clients, Discovery, Invoker, Outcome, Poller, TriggerError, failed_item_ids
from chalice_devstack.triggers.dynamodb import dynamodb_mapping, stream_record
from chalice_devstack.triggers.eventbridge import RuleMapping, rule_mapping
from chalice_devstack.triggers.kinesis import kinesis_mapping
from chalice_devstack.triggers.relay import RelayMapping, RelayPoller
from chalice_devstack.triggers.s3 import BucketMapping, bucket_mapping
from chalice_devstack.triggers.schedule import ScheduleMapping, SchedulePoller, schedule_mapping
from chalice_devstack.triggers.shards import StreamMapping
from chalice_devstack.triggers.sns import TopicMapping, topic_mapping
from chalice_devstack.triggers.sqs import FifoQueuePoller, QueueMapping, QueuePoller, check_visibility, queue_mapping
from chalice_devstack.triggers.streams import StreamPoller
from chalice_devstack.triggers.wakes import SHARED, Wakes

__all__ = [
    "BucketMapping",
    "Mappings",
    "Outcome",
    "Pollers",
    "QueueMapping",
    "QueuePoller",
    "RuleMapping",
    "ScheduleMapping",
    "StreamMapping",
    "StreamPoller",
    "TopicMapping",
    "TriggerError",
    "check_visibility",
    "discover",
    "failed_item_ids",
    "stream_record",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mappings:
    """Every event source of the app that devstack runs."""

    queues: list[QueueMapping] = field(default_factory=list)
    streams: list[StreamMapping] = field(default_factory=list)  # DynamoDB streams and Kinesis
    schedules: list[ScheduleMapping] = field(default_factory=list)
    relays: list[RelayMapping] = field(default_factory=list)  # SNS, S3, EventBridge: async invokes

    def add(self, mapping: Any) -> None:
        """File one mapping under its kind."""
        if isinstance(mapping, QueueMapping):
            self.queues.append(mapping)
        elif isinstance(mapping, StreamMapping):
            self.streams.append(mapping)
        elif isinstance(mapping, ScheduleMapping):
            self.schedules.append(mapping)
        else:
            self.relays.append(mapping)

    def with_batching_window_cap(self, seconds: float | None) -> "Mappings":
        """These mappings with no batching window over `seconds` (None: each as configured)."""
        if seconds is None:
            return self

        def capped(mapping: Any) -> Any:
            return replace(mapping, batching_window=min(mapping.batching_window, seconds))

        return replace(self, queues=[capped(m) for m in self.queues], streams=[capped(m) for m in self.streams])


_MAPPERS: dict[type, Callable[[Any, Discovery], Any]] = {
    SQSEventConfig: queue_mapping,
    DynamoDBEventConfig: dynamodb_mapping,
    KinesisEventConfig: kinesis_mapping,
    ScheduledEventConfig: schedule_mapping,
    SNSEventConfig: topic_mapping,
    S3EventConfig: lambda source, _: bucket_mapping(source),
    CloudWatchEventConfig: rule_mapping,
}


def discover(app: Chalice, template: dict[str, Any], scope: Scope, stage: str) -> Mappings:
    """Read the app's event sources and their resources.yaml settings."""
    discovery = Discovery(app.app_name, stage, template, scope)
    mappings = Mappings()
    for source in app.event_sources:
        mapper = _MAPPERS.get(type(source))
        if mapper is None:
            log.info("devstack does not emulate %s (%s); skipped", type(source).__name__, source.name)
            continue
        mappings.add(mapper(source, discovery))
    return mappings


class Pollers:
    """All pollers of an app: start() them, fire() a schedule on demand, stop() within a second.

    `wakes` carries the endpoint's notices (default: this process's, which moto_hooks feeds) and
    says how long a poller sleeps, at most, when no notice comes.
    """

    def __init__(
        self,
        mappings: Mappings,
        invoker: Invoker,
        clients: Clients,
        region: str,
        wakes: Wakes = SHARED,
    ):
        self.mappings = mappings
        self.pollers: list[Poller] = []
        for queue in mappings.queues:
            if queue.fifo:
                self.pollers.append(FifoQueuePoller(queue, invoker, clients, region, wakes=wakes))
            else:
                self.pollers += [
                    QueuePoller(queue, invoker, clients, region, worker, wakes) for worker in range(queue.concurrency)
                ]
        self.pollers += [StreamPoller(m, invoker, clients, region, wakes=wakes) for m in mappings.streams]
        self.pollers += [RelayPoller(m, invoker, clients, region, wakes) for m in mappings.relays]
        self.schedule_poller = SchedulePoller(mappings.schedules, invoker, region)
        if mappings.schedules:
            self.pollers.append(self.schedule_poller)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Prepare every poller (sources exist and are pointed at devstack once this returns); start their threads."""
        for poller in self.pollers:
            try:
                poller.prepare()
            except TriggerError:
                raise
            except Exception as error:  # one line naming the trigger, not a traceback
                problem = f"{type(error).__name__}: {error}"
                raise TriggerError(f"{poller.name}: cannot set up the trigger: {problem}") from error
        for poller in self.pollers:
            thread = threading.Thread(target=self._guarded, args=(poller,), name=poller.name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _guarded(self, poller: Poller) -> None:
        """Run a poller; on an unexpected error log one line and restart it a second later."""
        while not self._stop.is_set():
            try:
                poller.run(self._stop)
                return
            except Exception as error:  # a poller must outlive a bad batch or a restarting endpoint
                if self._stop.is_set():
                    return
                log.warning("%s: %s: %s (restarting in 1 s)", poller.name, type(error).__name__, error)
                self._stop.wait(1.0)

    def stop(self, timeout: float = 1.0) -> None:
        """Signal every poller and wait for them, at most `timeout` seconds in all."""
        self._stop.set()
        for poller in self.pollers:
            wake = getattr(poller, "wake", None)
            if wake is not None:
                wake.notify()  # a sleeping poller sees the stop now
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def schedule(self, name: str) -> ScheduleMapping:
        """Find a schedule by function name, logical id, physical name or ARN (KeyError names the choices)."""
        for mapping in self.mappings.schedules:
            physical = mapping.function_arn.rsplit(":", 1)[-1]
            if name in (mapping.function, mapping.logical_id, physical, mapping.function_arn):
                return mapping
        known = ", ".join(m.function for m in self.mappings.schedules) or "none"
        raise KeyError(f"no scheduled function {name!r} (the scheduled ones: {known}); fire one of those")

    def fire(self, name: str) -> Outcome:
        """Fire a schedule on demand, synchronously; return the invocation outcome."""
        return self.schedule_poller.fire(self.schedule(name))
