"""`devstack up` reloads the functions when their source changes, keeping the AWS state."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from chalice_devstack.testing import Devstack, running_devstack
from tests.conftest import TEST_REGION, write_project

APP = """
from chalice import Chalice

from chalicelib.answer import ANSWER

app = Chalice(app_name="reloading")


@app.lambda_function()
def answer(event, context):
    return {"answer": ANSWER}
"""
RESOURCES = """
Resources:
  Notes:
    Type: AWS::SQS::Queue
    Properties: {QueueName: notes}
"""


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, Devstack]]:
    """Given: a running devstack whose function answers what chalicelib/answer.py says (1), a note in its queue."""
    root = write_project(tmp_path / "reloading", "reloading").root
    (root / "app.py").write_text(APP)
    (root / "chalicelib").mkdir()
    (root / "chalicelib" / "__init__.py").write_text("")
    (root / "chalicelib" / "answer.py").write_text("ANSWER = 1\n")
    (root / "infra").mkdir()
    (root / "infra" / "resources.yaml").write_text(RESOURCES)
    with running_devstack(write_project(root, "reloading"), "dev", TEST_REGION, reload=True) as stack:
        sqs = stack.client("sqs")
        sqs.send_message(QueueUrl=sqs.get_queue_url(QueueName="notes")["QueueUrl"], MessageBody="kept")
        yield root, stack


def answer(stack: Devstack) -> object:
    """What the function answers now."""
    return stack.control("POST", "/2015-03-31/functions/answer/invocations", {}).body["answer"]


def notes(stack: Devstack) -> str:
    """The notes queue's depth, as SQS counts it."""
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName="notes")["QueueUrl"]
    return str(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"]
    )


def test_an_edit_reloads_the_function_keeping_the_aws_state_and_broken_code_keeps_the_last_good(
    project: tuple[Path, Devstack],
) -> None:
    """One devstack for both (a start costs seconds): an edit, then an edit that does not import."""
    root, stack = project
    assert answer(stack) == 1

    (root / "chalicelib" / "answer.py").write_text("ANSWER = 2\n")

    stack.wait_until(lambda: answer(stack) == 2)
    # The line reaches the output pipe apart from the answer: wait for it too.
    stack.wait_until(lambda: "devstack: reloaded chalicelib/answer.py (2 functions)" in stack.output)
    assert notes(stack) == "1"

    (root / "app.py").write_text(APP.replace("def answer(event, context):", "def answer(event, context)"))

    failed = stack.wait_until(lambda: [line for line in stack.output if "reload after app.py failed" in line])
    assert failed[0].startswith("devstack: reload after app.py failed: app.py failed to import: SyntaxError: ")
    assert failed[0].endswith("(app.py:10); still running the code from before")
    assert not any("Traceback" in line for line in stack.output), "\n".join(stack.output)
    assert answer(stack) == 2
