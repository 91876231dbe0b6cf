"""EventBridge triggers (`on_cw_event`): a rule with the handler's pattern on the default bus, reached by PutEvents."""

import json
from dataclasses import dataclass, field
from typing import Any

from chalice.app import CloudWatchEventConfig

from chalice_devstack.project import LOCAL_ACCOUNT_ID
from chalice_devstack.triggers.base import Clients, Discovery
from chalice_devstack.triggers.relay import EventShaper

TARGET_ID = "devstack"


@dataclass(frozen=True)
class RuleMapping:
    """An EventBridge rule whose target is a function: the rule name `chalice deploy` gives it and its pattern."""

    function: str
    rule_name: str
    pattern: dict[str, Any]
    kind: str = field(default="events", init=False)

    @property
    def source(self) -> str:
        """The rule's name."""
        return self.rule_name

    def connect(self, clients: Clients, queue_arn: str, region: str) -> EventShaper:
        """Create the rule (listed by `aws events list-rules`) with the internal queue as its target."""
        events = clients("events")
        events.put_rule(Name=self.rule_name, EventPattern=json.dumps(self.pattern), State="ENABLED")
        events.put_targets(Rule=self.rule_name, Targets=[{"Id": TARGET_ID, "Arn": queue_arn}])
        return eventbridge_event


def rule_mapping(source: CloudWatchEventConfig, discovery: Discovery) -> RuleMapping:
    """The rule `chalice deploy` would create for an on_cw_event handler (a resources.yaml Pattern wins)."""
    patch = discovery.patch(source.name, f"{source.name}-event")
    rule = f"{discovery.physical_name(source.name)}-event"
    return RuleMapping(source.name, rule, patch.get("Pattern", source.event_pattern))


def eventbridge_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """The event the rule matched, in EventBridge's key order, with the `account` moto's SQS target leaves out."""
    if "detail-type" not in body:
        return None
    keys = ("version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail")
    event = {key: body.get(key, LOCAL_ACCOUNT_ID if key == "account" else None) for key in keys}
    return {**event, **{key: value for key, value in body.items() if key not in keys}}
