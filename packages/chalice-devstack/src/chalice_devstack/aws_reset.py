"""Put an in-process moto back to its just-provisioned state in milliseconds, instead of provisioning again.

A test session shares one mock_aws. Between tests the data they wrote goes: DynamoDB items and
stream records, S3 objects and uploads, Step Functions executions; each queue gets back exactly the
messages provisioning left in it (S3 sends `s3:TestEvent` when a bucket notification is set); Cognito
user pools lose their users. A service the project does not provision is reset whole. Provisioning
afresh is the fallback, and `reset` says when it is needed: a test created or deleted a provisioned
resource (a table, a queue, a bucket, a topic, a subscription, a state machine, a user pool, an app
client, a group), or the project provisions a service whose data this module
cannot clear (its tests then get a fresh moto each, as before).

moto keeps this state in its backends' attributes, which is why this module is pinned with moto's minor.
"""

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from moto.core.base_backend import BackendDict

# moto's own configuration (the Step Functions interpreter switch, seeds...): never reset.
KEPT_SERVICES = frozenset({"moto_api"})


def clear_dynamodb(backend: Any) -> frozenset[str]:
    """Empty every table and its stream; the table names."""
    for table in backend.tables.values():
        table.items.clear()
        if table.stream_shard is not None:
            table.stream_shard.items.clear()
    return frozenset(backend.tables)


class QueueMessages:
    """The messages provisioning left in each queue, given back (as new copies) on every reset."""

    def __init__(self) -> None:
        self.provisioned: dict[int, dict[str, list[Any]]] = {}

    def capture(self, backend: Any) -> None:
        """Remember one SQS backend's messages as provisioning left them (moto's messages are plain data)."""
        self.provisioned[id(backend)] = {name: copy.deepcopy(q._messages) for name, q in backend.queues.items()}

    def __call__(self, backend: Any) -> frozenset[str]:
        """Give every queue back its provisioned messages only; the queue names."""
        provisioned = self.provisioned.get(id(backend), {})
        for name, queue in backend.queues.items():
            with queue._messages_lock:
                queue._messages[:] = copy.deepcopy(provisioned.get(name, []))
                queue._pending_messages.clear()
                queue.deleted_messages.clear()
        return frozenset(backend.queues)


def clear_s3(backend: Any) -> frozenset[str]:
    """Empty every bucket (objects, versions, unfinished uploads); the bucket names."""
    for bucket in backend.buckets.values():
        bucket.keys.clear()
        bucket.multiparts.clear()
    return frozenset(backend.buckets)


def clear_stepfunctions(backend: Any) -> frozenset[str]:
    """Forget every execution; the state machine ARNs."""
    for machine in backend.state_machines:
        machine.executions.clear()
    return frozenset(machine.arn for machine in backend.state_machines)


def sns_names(backend: Any) -> frozenset[str]:
    """SNS keeps no data between publishes (deliveries land in SQS): its topics and subscriptions."""
    return frozenset([*backend.topics, *backend.subscriptions])


def clear_cognito(backend: Any) -> frozenset[str]:
    """Forget every user (their tokens and group memberships with them); pools, app clients and groups stay.

    The names include the clients and groups, so a test that adds one gets the next test a fresh provisioning.
    """
    names = set()
    for pool in backend.user_pools.values():
        for store in (pool.users, pool.refresh_tokens, pool.access_tokens, pool.id_tokens):
            store.clear()
        for group in pool.groups.values():
            group.users.clear()
        names |= {pool.id, *(f"{pool.id}/client/{client}" for client in pool.clients)}
        names |= {f"{pool.id}/group/{group}" for group in pool.groups}
    backend.sessions.clear()
    return frozenset(names)


def no_data(_backend: Any) -> frozenset[str]:
    """DynamoDB Streams keeps its records in DynamoDB's tables: nothing of its own to clear."""
    return frozenset()


Clearer = Callable[[Any], frozenset[str]]
# SQS is cleared by a QueueMessages made at the snapshot: it knows what provisioning sent.
CLEARERS: dict[str, Clearer] = {
    "cognito-idp": clear_cognito,
    "dynamodb": clear_dynamodb,
    "dynamodbstreams": no_data,
    "s3": clear_s3,
    "sns": sns_names,
    "stepfunctions": clear_stepfunctions,
}


def regional_backends() -> Iterator[tuple[str, Any]]:
    """(service, backend) for every backend moto has made so far, in every account and region."""
    for backend_dict in list(BackendDict._instances):  # type: ignore[misc]
        for account_backends in list(backend_dict.values()):
            for backend in list(account_backends.values()):
                yield backend_dict.service_name, backend


@dataclass
class ProvisionedAws:
    """The mocked AWS as provisioning left it: which services it holds data in, and their resource names."""

    services: frozenset[str]
    clearers: dict[str, Clearer]
    resources: dict[tuple[str, int], frozenset[str]]

    @classmethod
    def snapshot(cls, services: list[str]) -> "ProvisionedAws":
        """Remember the provisioned services' resources (call right after provisioning)."""
        messages = QueueMessages()
        for service, backend in regional_backends():
            if service == "sqs":
                messages.capture(backend)
        clearers: dict[str, Clearer] = {**CLEARERS, "sqs": messages}
        resources = {
            (service, id(backend)): clearers[service](backend)
            for service, backend in regional_backends()
            if service in services and service in clearers
        }
        return cls(frozenset(services), clearers, resources)

    @property
    def clearable(self) -> bool:
        """Whether every provisioned service's data can be cleared in place."""
        return self.services <= self.clearers.keys()

    def reset(self) -> bool:
        """Clear what tests wrote; False when only provisioning afresh can restore the snapshot."""
        if not self.clearable:
            return False
        unchanged = True
        for service, backend in regional_backends():
            if service in KEPT_SERVICES:
                continue
            if service not in self.services:
                backend.reset()
            elif service in self.clearers:
                names = self.clearers[service](backend)
                unchanged &= names == self.resources.get((service, id(backend)), frozenset())
        return unchanged
