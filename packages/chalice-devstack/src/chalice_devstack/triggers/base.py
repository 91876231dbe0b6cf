"""What every trigger shares: the invoker it calls, the mapping patch it reads, how a batch response reads."""

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from chalice_devstack.intrinsics import Scope, resolve
from chalice_devstack.project import LOCAL_ACCOUNT_ID

Clients = Callable[[str], Any]
NOT_IN_CFN_NAMES = re.compile(r"[^A-Za-z0-9]+")


def to_cfn_resource_name(name: str) -> str:
    """A name as `chalice package` names its resource: CamelCase, alphanumerics only (chalice.utils' rule).

    Not imported from chalice.utils: that module imports click, about 80 ms of every `devstack up`.
    """
    if not name:
        raise ValueError(f"Invalid name: {name!r}")
    for separator in "-_":
        name = "".join(part[0].upper() + part[1:] for part in name.split(separator) if part)
    return NOT_IN_CFN_NAMES.sub("", name)


class TriggerError(Exception):
    """A trigger AWS would refuse to create; the message is one line naming the function and the source."""


class Outcome(Protocol):
    """What the function registry returns for one invocation (an InvocationResult)."""

    @property
    def ok(self) -> bool:
        """Whether the function returned (instead of raising)."""
        ...

    @property
    def payload(self) -> Any:
        """What the function returned."""
        ...

    @property
    def throttled(self) -> bool:
        """Whether the function never ran: its reserved concurrency was in use (the trigger retries)."""
        ...


@dataclass(frozen=True)
class BatchItems:
    """The records of a batch as a trigger hands it over: their ids, and whether partial responses count."""

    ids: tuple[str, ...]
    report_item_failures: bool


class Invoker(Protocol):
    """Runs a function of the Chalice app by name or ARN (devstack.functions.FunctionRegistry)."""

    def invoke(self, name_or_arn: str, event: dict[str, Any], trigger: str, items: BatchItems | None = None) -> Outcome:
        """Invoke synchronously and return the outcome (counting the failed records of `items`)."""
        ...


class Poller(Protocol):
    """One running trigger: `prepare()` before devstack is ready, then `run()` on a thread of its own."""

    name: str

    def prepare(self) -> None:
        """Set up what must exist before devstack reports ready (raise TriggerError when AWS would refuse)."""
        ...

    def run(self, stop: threading.Event) -> None:
        """Poll until stop is set."""
        ...


@dataclass(frozen=True)
class Discovery:
    """What turning one Chalice event source into a mapping needs: names, region and the resources patches."""

    app_name: str
    stage: str
    template: dict[str, Any]
    scope: Scope

    @property
    def region(self) -> str:
        """The local region."""
        return self.scope.parameters["AWS::Region"]

    def physical_name(self, function: str) -> str:
        """The function's name as `chalice deploy` gives it."""
        return f"{self.app_name}-{self.stage}-{function}"

    def function_arn(self, function: str) -> str:
        """The function's local ARN."""
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.physical_name(function)}"

    def arn(self, service: str, resource: str) -> str:
        """A local ARN of another service (`resource` is what follows the account id)."""
        return f"arn:aws:{service}:{self.region}:{LOCAL_ACCOUNT_ID}:{resource}"

    def patch(self, function: str, event_resource: str) -> dict[str, Any]:
        """The resolved `Properties` that resources.yaml merges into one trigger ({} when none).

        `event_resource` is Chalice's name for the trigger (`<fn>-sqs-event-source`); `chalice package`
        puts it under `Resources.<Fn>.Properties.Events.<FnSqsEventSource>`.
        """
        function_cfn = self.template.get("Resources", {}).get(to_cfn_resource_name(function), {})
        events = function_cfn.get("Properties", {}).get("Events", {})
        patch = events.get(to_cfn_resource_name(event_resource), {}).get("Properties", {})
        resolved: dict[str, Any] = resolve(patch, self.scope)
        return resolved


def reports_item_failures(patch: dict[str, Any]) -> bool:
    """Whether a mapping patch turns on partial batch responses."""
    return "ReportBatchItemFailures" in patch.get("FunctionResponseTypes", [])


def failed_item_ids(outcome: Outcome, item_ids: Iterable[str], report_item_failures: bool) -> set[str] | None:
    """The items a batch response failed: None for the whole batch, an empty set for none.

    As on AWS: an error fails the batch; without ReportBatchItemFailures any successful
    response is a full success; a failure naming no item or an unknown item fails the batch.
    """
    if not outcome.ok:
        return None
    if not report_item_failures:
        return set()
    payload = outcome.payload
    if isinstance(payload, bytes | str):
        try:
            payload = json.loads(payload) if payload else None
        except ValueError:
            return set()
    failures = payload.get("batchItemFailures") if isinstance(payload, dict) else None
    if not failures:
        return set()
    known = set(item_ids)
    failed = {entry.get("itemIdentifier") if isinstance(entry, dict) else None for entry in failures}
    if not failed <= known:
        return None
    return {str(item) for item in failed}
