"""Asynchronously invoked triggers (SNS, S3, EventBridge), delivered through an internal queue.

moto can only deliver these to a Lambda function by running it in Docker, so devstack points
each source at an internal SQS queue of its own (`devstack-<kind>-<function>`) and invokes the
function once per message, as Lambda's async invoke does: a function error is retried twice
(after a second, not Lambda's minutes), then the event is discarded with a warning.
"""

import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Protocol

from chalice_devstack.triggers.base import Clients, Invoker
from chalice_devstack.triggers.sqs import receive
from chalice_devstack.triggers.wakes import SHARED, Wakes

log = logging.getLogger(__name__)

ASYNC_ATTEMPTS = 3  # Lambda's async invoke: the first attempt and two retries
RETRY_DELAY_SECONDS = 1
IN_FLIGHT_SECONDS = 900  # Lambda's longest timeout: a message is never redelivered during its invocation

# The Lambda event for one message of the internal queue (None: not an event for the function).
EventShaper = Callable[[dict[str, Any]], dict[str, Any] | None]


class RelayMapping(Protocol):
    """An async trigger: which function, and how its source is pointed at the internal queue."""

    @property
    def function(self) -> str:
        """The Chalice function the source invokes."""
        ...

    @property
    def kind(self) -> str:
        """sns, s3 or events: part of the internal queue's name."""
        ...

    @property
    def source(self) -> str:
        """The topic, bucket or rule, as the console shows it."""
        ...

    def connect(self, clients: Clients, queue_arn: str, region: str) -> EventShaper:
        """Point the source at the queue (creating the source if Chalice expects it to exist); return the shaper."""
        ...


class RelayPoller:
    """One async trigger: its internal queue, polled; one invocation per event, retried as Lambda retries."""

    def __init__(
        self,
        mapping: RelayMapping,
        invoker: Invoker,
        clients: Clients,
        region: str,
        wakes: Wakes = SHARED,
    ):
        self.mapping, self.invoker, self.clients, self.region = mapping, invoker, clients, region
        self.sqs = clients("sqs")
        self.queue_name = f"devstack-{mapping.kind}-{mapping.function}"[:80]
        self.wake = wakes.get(f"sqs:{self.queue_name}")
        self.name = f"{mapping.kind}:{mapping.source}->{mapping.function}"
        self.queue_url = ""
        self.shape: EventShaper = lambda body: body

    def prepare(self) -> None:
        """Create the internal queue and point the source at it."""
        attributes = {"VisibilityTimeout": str(IN_FLIGHT_SECONDS)}
        self.queue_url = self.sqs.create_queue(QueueName=self.queue_name, Attributes=attributes)["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self.shape = self.mapping.connect(self.clients, queue_arn["Attributes"]["QueueArn"], self.region)

    def run(self, stop: threading.Event) -> None:
        """Deliver each event of the internal queue; sleep until woken (a source delivered, a retry is due)."""
        while not stop.is_set():
            seen = self.wake.count
            messages = receive(self.sqs, self.queue_url, 10)
            for message in messages:
                self.deliver(message)
            if not messages:
                self.wake.wait(seen)

    def deliver(self, message: dict[str, Any]) -> bool:
        """Invoke the function with one event; True when it is done with (handled, dropped or given up)."""
        event = self.shape(json.loads(message["Body"]))
        attempt = int(message.get("Attributes", {}).get("ApproximateReceiveCount", 1))
        outcome = None if event is None else self.invoker.invoke(self.mapping.function, event, self.name.split("->")[0])
        done = outcome is None or outcome.ok
        # Lambda keeps a throttled event in its queue and tries again: a throttle is no failed attempt.
        if not done and attempt >= ASYNC_ATTEMPTS and not (outcome is not None and outcome.throttled):
            log.warning("%s: event discarded after %d failed attempts", self.name, attempt)
            done = True
        if done:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        else:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=RETRY_DELAY_SECONDS
            )
        return done
