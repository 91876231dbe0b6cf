"""SNS triggers (`on_sns_message`): the topic by name or ARN; a publish invokes the function with Lambda's event."""

import json
from dataclasses import dataclass, field
from typing import Any

from chalice.app import SNSEventConfig

from chalice_devstack.triggers.base import Clients, Discovery
from chalice_devstack.triggers.relay import EventShaper

# SNS spells these URL when it posts to a queue and Url when it invokes a function.
_LAMBDA_KEYS = {"SigningCertURL": "SigningCertUrl", "UnsubscribeURL": "UnsubscribeUrl"}


@dataclass(frozen=True)
class TopicMapping:
    """An SNS subscription of a function (FilterPolicy from its resources.yaml patch, if any)."""

    function: str
    topic_arn: str
    filter_policy: dict[str, Any] | None = None
    kind: str = field(default="sns", init=False)

    @property
    def source(self) -> str:
        """The topic's name."""
        return self.topic_arn.rsplit(":", 1)[-1]

    def connect(self, clients: Clients, queue_arn: str, region: str) -> EventShaper:
        """Create the topic unless it exists (Chalice names one it does not create); subscribe the queue to it."""
        sns = clients("sns")
        topic_arn = sns.create_topic(Name=self.source)["TopicArn"]  # idempotent: the existing topic's ARN
        attributes = {"FilterPolicy": json.dumps(self.filter_policy)} if self.filter_policy else {}
        subscription = sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes=attributes, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        return lambda body: sns_event(body, subscription)


def topic_mapping(source: SNSEventConfig, discovery: Discovery) -> TopicMapping:
    """The subscription `chalice deploy` would create for an on_sns_message handler."""
    patch = discovery.patch(source.name, f"{source.name}-sns-subscription")
    topic = source.topic if source.topic.startswith("arn:") else discovery.arn("sns", source.topic)
    return TopicMapping(source.name, patch.get("Topic", topic), patch.get("FilterPolicy"))


def sns_event(body: dict[str, Any], subscription_arn: str) -> dict[str, Any] | None:
    """The event Lambda gets for one SNS notification (from the notification SNS posted to the queue)."""
    if body.get("Type") != "Notification":
        return None
    message = {_LAMBDA_KEYS.get(key, key): value for key, value in body.items()}
    message.setdefault("Subject", None)  # Lambda always sends the key; Chalice's SNSEvent reads it
    message.setdefault("MessageAttributes", {})
    return {
        "Records": [
            {"EventSource": "aws:sns", "EventVersion": "1.0", "EventSubscriptionArn": subscription_arn, "Sns": message}
        ]
    }
