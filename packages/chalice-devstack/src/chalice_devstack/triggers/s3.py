"""S3 triggers (`on_s3_event`): a bucket notification per function, as `chalice deploy` sets it up."""

import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from chalice.app import S3EventConfig

from chalice_devstack.provision import create_bucket
from chalice_devstack.triggers.base import Clients
from chalice_devstack.triggers.relay import EventShaper

DEFAULT_EVENTS = ("s3:ObjectCreated:*",)  # Chalice's default for on_s3_event


@dataclass(frozen=True)
class BucketMapping:
    """A bucket notification to a function: its events and key prefix/suffix filters."""

    function: str
    bucket: str
    events: tuple[str, ...] = DEFAULT_EVENTS
    prefix: str | None = None
    suffix: str | None = None
    kind: str = field(default="s3", init=False)

    @property
    def source(self) -> str:
        """The bucket's name."""
        return self.bucket

    def connect(self, clients: Clients, queue_arn: str, region: str) -> EventShaper:
        """Add the notification to the bucket's (creating the bucket if missing), keeping the ones it has."""
        s3 = clients("s3")
        if self.bucket not in {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}:
            create_bucket(s3, {"BucketName": self.bucket})
        configuration = s3.get_bucket_notification_configuration(Bucket=self.bucket)
        configuration.pop("ResponseMetadata", None)
        configuration.setdefault("QueueConfigurations", []).append(self.notification(queue_arn))
        s3.put_bucket_notification_configuration(Bucket=self.bucket, NotificationConfiguration=configuration)
        return s3_event

    def notification(self, queue_arn: str) -> dict[str, Any]:
        """The notification Chalice's deployer writes, to the internal queue instead of the function."""
        # S3 takes either case; moto only lower case.
        rules = [{"Name": name, "Value": value} for name, value in (("prefix", self.prefix), ("suffix", self.suffix))]
        notification: dict[str, Any] = {"Id": f"devstack-{self.function}", "QueueArn": queue_arn, "Events": self.events}
        if any(rule["Value"] is not None for rule in rules):
            notification["Filter"] = {"Key": {"FilterRules": [rule for rule in rules if rule["Value"] is not None]}}
        return notification


def bucket_mapping(source: S3EventConfig) -> BucketMapping:
    """The notification `chalice deploy` would configure for an on_s3_event handler."""
    events = tuple(source.events or DEFAULT_EVENTS)
    return BucketMapping(source.name, source.bucket, events, source.prefix, source.suffix)


def s3_event(body: dict[str, Any]) -> dict[str, Any] | None:
    """The event Lambda gets: S3's notification, with the fields moto leaves out (s3:TestEvent is not for Lambda)."""
    if "Records" not in body:
        return None
    return {"Records": [s3_record(record) for record in body["Records"]]}


def s3_record(record: dict[str, Any]) -> dict[str, Any]:
    """One S3 event record in the shape S3 sends it, moto's values kept."""
    request_id = uuid.uuid4().hex[:16].upper()
    s3 = record["s3"]
    return {
        **record,
        "userIdentity": record.get("userIdentity", {"principalId": "AWS:DEVSTACK"}),
        "requestParameters": record.get("requestParameters", {"sourceIPAddress": "127.0.0.1"}),
        "responseElements": record.get(
            "responseElements", {"x-amz-request-id": request_id, "x-amz-id-2": uuid.uuid4().hex}
        ),
        "s3": {
            **s3,
            "bucket": {"ownerIdentity": {"principalId": "DEVSTACK"}, **s3["bucket"]},
            # S3 form-encodes the key but leaves "/" as is; moto encodes it too.
            "object": {
                "sequencer": f"{uuid.uuid4().int % 16**16:016X}",
                **s3["object"],
                "key": quote_plus(unquote_plus(s3["object"]["key"]), safe="/"),
            },
        },
    }
