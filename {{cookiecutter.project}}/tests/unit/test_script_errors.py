"""What stops {% if cookiecutter.include_orders == 'y' %}`make seed` or {% endif %}`make redrive` is one line naming the problem and the fix, with exit code 2."""

import os
import socket
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError, NoCredentialsError

from chalicelib.db.aws import sqs_client
from scripts.stage_env import ScriptError, explain, run_script, use_stage
from tests.conftest import PROJECT

SCRIPTS = [{% if cookiecutter.include_orders == 'y' %}"scripts.seed", {% endif %}"scripts.redrive"]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(module: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a script as the Makefile does (python -m scripts.x), with env added."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=PROJECT.root,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """Then: the script failed with exit code 2 and exactly one line on stderr; that line."""
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.splitlines()
    return line


@pytest.mark.parametrize("module", SCRIPTS)
def test_no_devstack_running_is_one_line_naming_make_dev(module: str) -> None:
    """Given nothing on the endpoint's port, when a script runs, then it says so at once and how to start it."""
    endpoint = f"http://127.0.0.1:{closed_port()}"
    line = one_line(run(module, AWS_ENDPOINT_URL=endpoint))
    assert line.endswith(
        f"nothing answers at the AWS endpoint {endpoint}: start the devstack (make dev) in another shell, "
        "or set ENDPOINT= (empty) to use AWS itself"
    )


@pytest.mark.parametrize("module", SCRIPTS)
def test_an_unknown_stage_is_one_line_listing_the_stages(module: str) -> None:
    """Given STAGE=qa, which .chalice/config.json lacks, when a script runs, then the stages are named."""
    line = one_line(run(module, "--stage", "qa"))
    assert line.endswith("no stage 'qa' in .chalice/config.json: use STAGE= one of dev, prod")


def test_an_unknown_queue_is_one_line_listing_the_dlqs() -> None:
    """Given QUEUE=nope, when redriven, then the DLQs it could be are named, before any endpoint is asked."""
    line = one_line(run("scripts.redrive", "nope", AWS_ENDPOINT_URL=f"http://127.0.0.1:{closed_port()}"))
    assert line.startswith("redrive: no DLQ named 'nope': use QUEUE= one of ")
    assert line.endswith("(make redrive lists them)")


def client_error(code: str, message: str, operation: str) -> ClientError:
    """An error as botocore raises it for an AWS error answer."""
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@pytest.mark.parametrize(
    ("error", "line"),
    [
        (NoCredentialsError(), "no AWS credentials: configure them (aws configure, AWS_PROFILE), or drop ENDPOINT="),
        (
            client_error("AWS.SimpleQueueService.NonExistentQueue", "The queue does not exist.", "GetQueueUrl"),
            "The queue does not exist (GetQueueUrl): this stage's resources are not at this endpoint",
        ),
        (client_error("AccessDenied", "not allowed", "SendMessageBatch"), "AWS refused SendMessageBatch: AccessDenied"),
        (ScriptError("as written"), "as written"),
    ],
    ids=["credentials", "missing-queue", "refused", "script"],
)
def test_errors_a_person_can_fix_are_explained(error: Exception, line: str) -> None:
    """Given an error a person can fix, then explain() gives its one line."""
    assert (explain(error) or "").startswith(line)


def test_an_sdk_error_wrapped_by_pynamodb_is_explained_by_its_cause() -> None:
    """Given a PynamoDB error around a botocore one, then the botocore one is explained."""
    from pynamodb.exceptions import PutError

    assert (explain(PutError("Failed to put item", NoCredentialsError())) or "").startswith("no AWS credentials")


def test_a_bug_keeps_its_traceback() -> None:
    """Given an error nobody can fix from the command line, when a script raises it, then it propagates."""

    def broken() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_script(broken)


@pytest.mark.usefixtures("aws")
def test_a_missing_queue_on_the_endpoint_is_explained(capsys: pytest.CaptureFixture[str]) -> None:
    """Given a moto AWS without the queue, when a script asks for it, then one line and exit 2."""

    def ask() -> None:
        sqs_client().get_queue_url(QueueName="no-such-queue")

    with pytest.raises(SystemExit) as stopped:
        run_script(ask)
    assert stopped.value.code == 2
    assert "this stage's resources are not at this endpoint" in capsys.readouterr().err


def test_use_stage_refuses_an_endpoint_nobody_answers_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given AWS_ENDPOINT_URL on a closed port, when a stage is used, then a ScriptError names the endpoint."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(ScriptError, match="nothing answers at the AWS endpoint"):
        use_stage("dev")
