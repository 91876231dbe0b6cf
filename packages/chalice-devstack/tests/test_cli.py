"""The `devstack` command as a user meets it: sample events, invoke's exit codes, one-line start errors."""

import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from chalice.app import CloudWatchEvent, DynamoDBEvent, KinesisEvent, S3Event, SNSEvent, SQSEvent

from chalice_devstack import cli
from chalice_devstack.cli import SAMPLE_KINDS, sample_event
from chalice_devstack.testing import Devstack, free_port, running_devstack
from tests.conftest import TEST_REGION, devstack_command, port_flag, write_project

# What Chalice hands each handler kind, and what a handler reads from it: the sample must give that.
READS: dict[str, tuple[type, Any, Any]] = {
    "sqs": (SQSEvent, lambda e: [r.body for r in e], ['{"hello": "from SQS"}']),
    "dynamodb": (DynamoDBEvent, lambda e: [(r.event_name, r.keys) for r in e], [("INSERT", {"id": {"S": "item-1"}})]),
    "kinesis": (KinesisEvent, lambda e: [r.data for r in e], [b'{"hello": "from Kinesis"}']),
    "sns": (SNSEvent, lambda e: (e.subject, e.message), ("example", '{"hello": "from SNS"}')),
    "s3": (S3Event, lambda e: (e.bucket, e.key), ("my-bucket", "incoming/report.csv")),
    "eventbridge": (CloudWatchEvent, lambda e: (e.source, e.detail_type), ("my.app", "Order Placed")),
    "schedule": (CloudWatchEvent, lambda e: (e.source, e.detail_type), ("aws.events", "Scheduled Event")),
}
APP = """
import http.server
import json
import os
from chalice import Chalice, CognitoUserPoolAuthorizer

app = Chalice(app_name="echo")
# Names a pool the resources file does not declare (it declares Members): devstack warns at start.
elsewhere = CognitoUserPoolAuthorizer(
    "elsewhere", provider_arns=["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_Elsewhere"]
)


@app.route("/members", authorizer=elsewhere)
def members():
    return {"members": []}


@app.on_sqs_message(queue="echo-in")
def bodies(event):
    return [json.loads(record.body) for record in event]


@app.lambda_function()
def shout(event, context):
    return {"shout": event["text"].upper()}
"""


RESOURCES = """
Resources:
  EchoIn:
    Type: AWS::SQS::Queue
    Properties: {QueueName: echo-in, VisibilityTimeout: 60}
  Members:
    Type: AWS::Cognito::UserPool
  MembersWeb:
    Type: AWS::Cognito::UserPoolClient
    Properties: {UserPoolId: {"Ref": "Members"}}
"""


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
def test_every_sample_event_parses_as_chalice_parses_that_trigger(kind: str) -> None:
    """Given a sample, when Chalice's event class for its trigger reads it, then a handler sees its fields."""
    event_class, read, expected = READS[kind]
    assert read(event_class(json.loads(sample_event(kind)), context=None)) == expected


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Devstack]]:
    """Given: a project with an SQS consumer and a plain Lambda function, on a running devstack."""
    project = write_project(tmp_path_factory.mktemp("echo"), "echo")
    (project.root / "app.py").write_text(APP)
    (project.root / "infra").mkdir()
    (project.root / "infra" / "resources.yaml").write_text(RESOURCES)
    with running_devstack(project, "dev", TEST_REGION) as stack:
        yield project.root, stack


def test_invoke_with_a_sample_runs_the_handler_on_lambdas_event_shape(echo: tuple[Path, Devstack]) -> None:
    """Given the SQS sample, when the consumer is invoked with it, then it gets the sample's record body."""
    root, stack = echo
    result = devstack_command(root, "invoke", "bodies", "--sample", "sqs", *port_flag(stack))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"hello": "from SQS"}]


def test_invoke_reads_the_event_from_stdin_and_exits_1_on_a_function_error(echo: tuple[Path, Devstack]) -> None:
    """Given events on stdin, then a good one prints the payload and one the function chokes on exits 1."""
    root, stack = echo
    good = devstack_command(root, "invoke", "shout", "--event", "-", *port_flag(stack), stdin='{"text": "hi"}')
    bad = devstack_command(root, "invoke", "shout", "--event", "-", *port_flag(stack), stdin="{}")
    assert (good.returncode, json.loads(good.stdout)) == (0, {"shout": "HI"})
    assert bad.returncode == 1 and json.loads(bad.stdout)["errorType"] == "KeyError"


def test_invoke_refuses_an_event_file_that_is_not_json(echo: tuple[Path, Devstack], tmp_path: Path) -> None:
    """Given a file that is not JSON, then invoke says so in one line and exits 2."""
    root, stack = echo
    (tmp_path / "event.json").write_text("{not json")
    result = devstack_command(root, "invoke", "shout", "--event", str(tmp_path / "event.json"), *port_flag(stack))
    assert result.returncode == 2
    assert result.stderr.startswith(f"devstack: --event {tmp_path / 'event.json'}: not JSON")


def test_a_bad_schedule_expression_stops_up_with_one_line_naming_the_function(tmp_path: Path) -> None:
    """Given a cron with five fields, when devstack starts, then it exits 1 with one line and no traceback."""
    project = write_project(tmp_path / "cron", "cron")
    (project.root / "app.py").write_text(
        "from chalice import Chalice\napp = Chalice(app_name='cron')\n\n\n"
        "@app.schedule('cron(0 12 * * ?)')\ndef noon(event):\n    return None\n"
    )
    ports = ["--aws-port", str(free_port()), "--api-port", str(free_port())]
    result = devstack_command(project.root, "up", *ports)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("devstack:")]
    assert len(errors) == 1 and "function 'noon'" in errors[0]
    assert "Traceback" not in result.stderr


def test_version_is_one_line_naming_where_the_package_came_from(tmp_path: Path) -> None:
    """Given a narrow terminal, when --version runs, then one unwrapped line names the version and its origin."""
    command = [sys.executable, "-m", "chalice_devstack", "--version"]
    result = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "20"}, check=True)
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("chalice-devstack 0.1.0 (from ")
    assert lines[0].endswith("packages/chalice-devstack)")


def test_trigger_of_a_function_that_is_not_scheduled_names_the_scheduled_ones(echo: tuple[Path, Devstack]) -> None:
    """Given a project with no schedule, when a name is triggered, then one line says which ones there are."""
    root, stack = echo
    result = devstack_command(root, "trigger", "bodies", *port_flag(stack))
    assert result.returncode == 1
    assert result.stderr == "devstack: no scheduled function 'bodies' (the scheduled ones: none); fire one of those\n"


def test_token_without_a_running_devstack_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Given no devstack on the port, when a token is asked for, then one line says to start one."""
    project = write_project(tmp_path / "idle", "idle")
    port = free_port()

    result = devstack_command(project.root, "token", "ada", "--aws-port", str(port))

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"devstack: no devstack answers on http://127.0.0.1:{port}; start one with `devstack up`\n"


def test_an_authorizer_naming_a_pool_that_is_not_provisioned_is_a_warning_at_start(
    echo: tuple[Path, Devstack],
) -> None:
    """Given an authorizer naming another pool than the provisioned one, then start-up says so, and its routes 401."""
    root, stack = echo
    members = f"arn:aws:cognito-idp:{TEST_REGION}:123456789012:userpool/{TEST_REGION}_Members"
    token = devstack_command(root, "token", "ada", "--region", TEST_REGION, *port_flag(stack)).stdout.strip()
    assert token.count(".") == 2  # a JWT of the provisioned pool, which the authorizer does not name

    assert any(
        line.startswith("warning: authorizer 'elsewhere' names user pool ")
        and line.endswith(f"(its pools: {members}); its routes will answer 401")
        for line in stack.output
    )
    assert stack.api("GET", "/members", headers={"Authorization": token}).status == 401


def test_token_from_a_port_something_else_answers_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """Given a web server that is not devstack on the port, when a token is asked for, then one line says so."""
    project = write_project(tmp_path / "idle", "idle")
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = devstack_command(project.root, "token", "ada", "--aws-port", str(server.server_port))
    finally:
        server.shutdown()

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.startswith(
        f"devstack: something that is not devstack answers on http://127.0.0.1:{server.server_port}"
    )


def test_a_sigterm_ends_up_s_wait_and_the_wakeup_fd_is_given_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given `up` waiting for a signal, when another thread sends the process SIGTERM, the wait ends at once
    (a watchdog signals the main thread after 10 s: a wait the first signal did not end still ends, and says so)."""
    monkeypatch.setattr(cli, "IDLE_WAIT_SECONDS", 3600.0)
    stop, rescued, main_thread = threading.Event(), threading.Event(), threading.main_thread().ident
    assert main_thread is not None

    def rescue() -> None:
        rescued.set()
        signal.pthread_kill(main_thread, signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    watchdog = threading.Timer(10.0, rescue)
    sender = threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGTERM))
    try:
        watchdog.start()
        sender.start()
        cli.wait_for_signal(stop)
    finally:
        watchdog.cancel()
        sender.join()
        signal.signal(signal.SIGTERM, previous)

    assert stop.is_set() and not rescued.is_set()
    assert signal.set_wakeup_fd(-1) == -1  # none was set before the wait, none is after


# A route reporting the garbage collector of the process it runs in: devstack's own, with --single.
COLLECTOR_APP = """
import gc

from chalice import Chalice

app = Chalice(app_name="collector")


@app.route("/gc")
def collector():
    return {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count() > 0}
"""


def test_a_started_devstack_collects_garbage_again_with_start_ups_objects_frozen(tmp_path: Path) -> None:
    # Given: the collector app (devstack up pauses the collector for its start)
    project = write_project(tmp_path / "collector", "collector")
    (project.root / "app.py").write_text(COLLECTOR_APP)
    # When: devstack is up in one process, and the route is asked
    with (
        running_devstack(project, "dev", TEST_REGION, single=True) as stack,
        urllib.request.urlopen(f"{stack.api_url}/gc", timeout=10) as answer,
    ):
        state = json.loads(answer.read())
    # Then: the pause is over, and what start-up made is out of the collector's way
    assert state == {"enabled": True, "frozen": True}
