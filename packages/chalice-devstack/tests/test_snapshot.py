"""Start-up snapshots: a start with the same inputs restores the provisioned, seeded state, not makes it again."""

import json
import os
import pickle
import shutil
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

from chalice_devstack.cognito import POOL_ID_TAG
from chalice_devstack.intrinsics import Scope
from chalice_devstack.project import Project
from chalice_devstack.snapshot import RESTORED_NOTE, DeferredBackends, Snapshot, prune, start_key
from chalice_devstack.testing import Devstack, cognito_token, running_devstack
from tests.conftest import APPS_DIR, TEST_REGION

# A table and a seed hook on top of the gateway app (a queue, a user pool with groups, Cognito-guarded routes).
SEEDED_TABLE = """
  NotesTable:
    Type: AWS::DynamoDB::Table
    Properties:
      TableName: gateway-notes
      BillingMode: PAY_PER_REQUEST
      AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
      KeySchema: [{AttributeName: id, KeyType: HASH}]
"""
SEED_HOOK = '''
import boto3


def seed_all():
    """Put the seeded note."""
    boto3.client("dynamodb").put_item(TableName="gateway-notes", Item={"id": {"S": "seeded"}})
    return {"notes": 1}
'''


@pytest.fixture
def seeded_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """Given: the gateway app with a table and a seed hook, and an empty snapshot cache of its own."""
    root = tmp_path / "gateway"
    shutil.copytree(APPS_DIR / "gateway", root)
    with (root / "infra" / "resources.yaml").open("a") as resources:
        resources.write(SEEDED_TABLE)
    (root / "seed.py").write_text(SEED_HOOK)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("DEVSTACK_SEED", "seed:seed_all")
    return Project.at(root)


def notes(stack: Devstack) -> list[str]:
    """The ids in the notes table."""
    dynamodb = boto3.client("dynamodb", endpoint_url=stack.endpoint_url, region_name=TEST_REGION)
    return sorted(item["id"]["S"] for item in dynamodb.scan(TableName="gateway-notes")["Items"])


def restored(stack: Devstack) -> bool:
    """Whether that start says it restored a snapshot."""
    return RESTORED_NOTE.strip() in (line.strip() for line in stack.output)


def test_a_second_start_restores_what_the_first_provisioned_and_seeded_not_what_came_after(
    seeded_project: Project,
) -> None:
    # Given: a first start, which provisions, seeds and saves a snapshot; then a note written once it is ready
    with running_devstack(seeded_project, "dev", TEST_REGION) as first:
        assert not restored(first)
        boto3.client("dynamodb", endpoint_url=first.endpoint_url, region_name=TEST_REGION).put_item(
            TableName="gateway-notes", Item={"id": {"S": "after-ready"}}
        )
        first_port = first.endpoint_url
    # When: the project starts again, on other ports
    with running_devstack(seeded_project, "dev", TEST_REGION) as second:
        # Then: the state is the one start-up made: the seeded note, not the later one
        assert second.endpoint_url != first_port
        assert restored(second)
        assert any('seeded        {"notes": 1}' in line for line in second.output)
        assert notes(second) == ["seeded"]
        # and it works: the queue URL the functions get names this endpoint, the pool signs tokens the API accepts
        sqs = boto3.client("sqs", endpoint_url=second.endpoint_url, region_name=TEST_REGION)
        queue_url = sqs.get_queue_url(QueueName="gateway-jobs")["QueueUrl"]
        assert queue_url.startswith(second.endpoint_url)
        sqs.send_message(QueueUrl=queue_url, MessageBody="{}")
        token = cognito_token(second, "alice", groups=["staff"])
        request = urllib.request.Request(f"{second.api_url}/cognito", headers={"Authorization": token})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.status == 200
        # and Cognito, restored after ready, came back with devstack's fixes: a tagged pool gets its stable id
        cognito = boto3.client("cognito-idp", endpoint_url=second.endpoint_url, region_name=TEST_REGION)
        wanted = f"{TEST_REGION}_restored1"
        pool = cognito.create_user_pool(PoolName="later", UserPoolTags={POOL_ID_TAG: wanted})["UserPool"]
        assert pool["Id"] == wanted


def test_deferred_backends_come_back_once_and_call_what_they_need_first() -> None:
    # Given: backends a restore deferred (none here), and what they need before their first request
    calls: list[str] = []
    deferred = DeferredBackends(pickle.dumps([]), then=lambda: calls.append("fixed"))
    # When: two requests need them
    deferred.restore()
    deferred.restore()
    # Then: they were put back, and fixed, once
    assert calls == ["fixed"]


def test_a_restored_state_machine_comes_back_with_its_first_request_and_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: the saga app (a state machine whose tasks are the app's functions), started once to save a snapshot
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root = tmp_path / "saga"
    shutil.copytree(APPS_DIR / "saga", root)
    project = Project.at(root)
    with running_devstack(project, "dev", TEST_REGION):
        pass
    # When: it starts again from the snapshot (Step Functions' backends are restored on first need)
    with running_devstack(project, "dev", TEST_REGION) as stack:
        assert restored(stack)
        sfn = boto3.client("stepfunctions", endpoint_url=stack.endpoint_url, region_name=TEST_REGION)
        machines = sfn.list_state_machines()["stateMachines"]
        # Then: the state machine is there, and an execution runs its tasks to the end
        assert [machine["name"] for machine in machines] == ["saga-order"]
        arn = machines[0]["stateMachineArn"]
        execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps({"order": "o-1"}))["executionArn"]
        deadline = time.monotonic() + 30
        while (status := sfn.describe_execution(executionArn=execution)["status"]) == "RUNNING":
            assert time.monotonic() < deadline, "the execution did not end within 30 s"
            time.sleep(0.05)
        assert status == "SUCCEEDED"


def test_a_damaged_snapshot_is_replaced_by_provisioning_afresh_in_one_process_too(seeded_project: Project) -> None:
    # Given: a start in one process (--single: moto in devstack's own) that saved a snapshot, then damaged
    with running_devstack(seeded_project, "dev", TEST_REGION, single=True):
        pass
    snapshot = Snapshot.for_start(seeded_project, "dev", TEST_REGION)
    snapshot.backends_file.write_bytes(b"not a pickle")
    # When: the project starts again
    with running_devstack(seeded_project, "dev", TEST_REGION, single=True) as stack:
        # Then: it says so, provisions and seeds as if there were none
        assert not restored(stack)
        assert any("snapshot not restored" in line for line in stack.output)
        assert notes(stack) == ["seeded"]
    # and saved a good snapshot again, which the next start restores
    with running_devstack(seeded_project, "dev", TEST_REGION, single=True) as stack:
        assert restored(stack)
        assert notes(stack) == ["seeded"]


def test_without_snapshots_every_start_provisions_afresh(
    seeded_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given: snapshots turned off
    monkeypatch.setenv("DEVSTACK_SNAPSHOT", "false")
    # When: the project starts twice
    for _ in range(2):
        with running_devstack(seeded_project, "dev", TEST_REGION) as stack:
            # Then: neither restores, and nothing is saved
            assert not restored(stack)
    assert not Snapshot.for_start(seeded_project, "dev", TEST_REGION).backends_file.parent.exists()


def test_the_key_follows_every_input_of_the_state(seeded_project: Project) -> None:
    # Given: the key of the project as it is
    key = start_key(seeded_project, "dev", TEST_REGION)
    assert start_key(seeded_project, "dev", TEST_REGION) == key
    # Then: another stage or region, or an edit to the resources, the config or any Python file, changes it
    assert start_key(seeded_project, "prod", TEST_REGION) != key
    assert start_key(seeded_project, "dev", "us-east-1") != key
    seen = {key}
    for path in (seeded_project.resources_file, seeded_project.chalice_config_file, seeded_project.root / "seed.py"):
        path.write_text(path.read_text() + "\n# edited\n")
        edited = start_key(seeded_project, "dev", TEST_REGION)
        assert edited not in seen
        seen.add(edited)


def test_the_saved_scope_is_repointed_at_this_starts_endpoint(tmp_path: Path, seeded_project: Project) -> None:
    # Given: a snapshot saved by a start on port 4566
    snapshot = Snapshot.for_start(seeded_project, "dev", TEST_REGION, folder=tmp_path)
    queue_url = "http://127.0.0.1:4566/123456789012/gateway-jobs"
    scope = Scope({"Stage": "dev"}, {"JobsQueue": {"Ref": queue_url, "Arn": "arn:aws:sqs:eu-west-1:1:gateway-jobs"}})
    snapshot.write_meta(scope, {"notes": 1}, "http://127.0.0.1:4566")
    # When: a start on port 5000 reads it
    read, seeded = snapshot.read_meta("http://127.0.0.1:5000")
    # Then: the queue URL names port 5000, the rest is as saved
    assert read.attributes["JobsQueue"] == {
        "Ref": "http://127.0.0.1:5000/123456789012/gateway-jobs",
        "Arn": "arn:aws:sqs:eu-west-1:1:gateway-jobs",
    }
    assert (read.parameters, seeded) == ({"Stage": "dev"}, {"notes": 1})


def test_only_the_newest_snapshots_are_kept(tmp_path: Path) -> None:
    # Given: five snapshots, oldest first
    for age, key in enumerate("abcde"):
        for name in (f"{key}.json", f"{key}.backends.pickle"):
            (tmp_path / name).write_text("{}")
            mtime = 1_000_000 + age
            os.utime(tmp_path / name, (mtime, mtime))
    # When: pruned to three
    prune(tmp_path, keep=3)
    # Then: the three newest remain, both files of each
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        f"{key}.{suffix}" for key in "cde" for suffix in ("backends.pickle", "json")
    ]


def signed_by(service: str) -> dict[str, str]:
    """A WSGI environ with a SigV4 Authorization header for `service`."""
    scope = f"Credential=KEY/20261207/{TEST_REGION}/{service}/aws4_request, SignedHeaders=host, Signature=0"
    return {"HTTP_AUTHORIZATION": f"AWS4-HMAC-SHA256 {scope}"}


@pytest.mark.parametrize(
    ("environ", "waits"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, False),
        ({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, False),
        (signed_by("s3"), False),
        (signed_by("sns"), False),
        ({"HTTP_X_AMZ_TARGET": "AWSStepFunctions.StartExecution"}, True),
        ({"HTTP_X_AMZ_TARGET": "AWSCognitoIdentityProviderService.InitiateAuth"}, True),
        ({"HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents"}, True),
        (signed_by("iam"), True),
        ({"PATH_INFO": "/us-east-1_Pool/.well-known/jwks.json"}, True),
    ],
)
def test_only_calls_to_the_polled_services_go_ahead_of_the_deferred_backends(
    environ: dict[str, str], waits: bool
) -> None:
    """Given a request to the endpoint, it waits for the deferred backends unless the pollers' services answer it."""
    from chalice_devstack.endpoint import needs_deferred_backends

    assert needs_deferred_backends(environ) is waits
