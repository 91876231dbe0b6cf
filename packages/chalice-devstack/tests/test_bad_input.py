"""Bad input to a `devstack` command is one line naming the problem and the fix, a non-zero exit, no traceback."""

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalice_devstack.cli import main
from chalice_devstack.errors import CommandError
from chalice_devstack.testing import free_port
from chalice_devstack.tooling.cfn_lint import reference_problems
from chalice_devstack.tooling.load_run import failed_verdicts, target_mode
from tests.conftest import write_project


def run(capsys: pytest.CaptureFixture[str], root: Path, *args: str) -> tuple[int, str]:
    """Run `devstack --project root ARGS` in this process; its exit code and what it wrote to stderr."""
    with pytest.raises(SystemExit) as exited:
        main(["--project", str(root), *args])
    return int(exited.value.code or 0), capsys.readouterr().err


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """Given: a project with stages dev and prod and a resources file."""
    config: dict[str, object] = {"version": "2.0", "app_name": "tiny", "stages": {"dev": {}, "prod": {}}}
    project = write_project(tmp_path / "tiny", config=config)
    (project.root / "infra").mkdir()
    (project.root / "infra" / "resources.yaml").write_text("Resources: {}\n")
    return project.root


def one_line(err: str) -> str:
    """The single `devstack:` line of stderr (and that there is no traceback)."""
    assert "Traceback" not in err
    (line,) = err.splitlines()
    assert line.startswith("devstack: ")
    return line


@pytest.mark.parametrize("command", [["up"], ["package"]])
def test_a_stage_the_config_lacks_names_the_stages_it_has(
    capsys: pytest.CaptureFixture[str], root: Path, command: list[str]
) -> None:
    code, err = run(capsys, root, *command, "--stage", "qa")
    assert code == 2
    assert one_line(err) == (
        "devstack: no stage 'qa' in .chalice/config.json (its stages: dev, prod); pick one of those "
        "(--stage, or STAGE= with make) or add 'qa' under \"stages\" there"
    )


def test_a_yaml_error_in_the_resources_file_is_one_line_with_line_and_column(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    (root / "infra" / "resources.yaml").write_text("Resources:\n  Queue:\n    Type: [AWS::SQS::Queue\n")
    code, err = run(capsys, root, "package")
    assert code == 2
    assert one_line(err) == (
        f"devstack: {root}/infra/resources.yaml:4:1: did not find expected ',' or ']' (while parsing a flow sequence);"
        " fix the YAML there"
    )


class Quiet(http.server.SimpleHTTPRequestHandler):
    """A plain file server that logs nothing (its log would land in the captured stderr)."""

    def log_message(self, *args: object) -> None:
        """Nothing."""


@pytest.fixture
def stranger() -> Iterator[int]:
    """Given: an HTTP server that is not devstack, on a free port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_status_says_so_when_something_else_answers_on_its_port(
    capsys: pytest.CaptureFixture[str], root: Path, stranger: int
) -> None:
    code, err = run(capsys, root, "status", "--aws-port", str(stranger))
    assert code == 1
    assert one_line(err) == (
        f"devstack: something that is not devstack answers on 127.0.0.1:{stranger} (HTTP 404 to GET "
        "/_devstack/status); stop it and start devstack, or give devstack's port with --aws-port"
    )


def test_status_with_nothing_on_its_port_says_how_to_start_one(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    port = free_port()
    code, err = run(capsys, root, "status", "--aws-port", str(port))
    assert (code, one_line(err)) == (
        1,
        f"devstack: no devstack answers on 127.0.0.1:{port}; start one with `devstack up`",
    )


def test_a_run_time_locust_cannot_read_is_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], root: Path
) -> None:
    code, err = run(capsys, root, "load", "run", "--run-time", "abc")
    assert code == 1
    assert one_line(err) == "devstack: --run-time 'abc' is not a run time; use locust's syntax, e.g. 60s, 2m, 1h30m"


def test_compare_with_a_missing_run_names_it(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    code, err = run(capsys, root, "load", "compare", str(root / "nope"), str(root / "nope2"))
    assert code == 1
    assert one_line(err) == (
        f"devstack: {root / 'nope'}: no load run there (no summary.json); give a folder `devstack load run` wrote"
    )


def test_env_prints_exports_a_shell_can_eval(capsys: pytest.CaptureFixture[str], root: Path) -> None:
    main(["--project", str(root), "env", "--aws-port", "4599"])
    lines = capsys.readouterr().out.splitlines()
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:4599" in lines
    assert "export API=http://127.0.0.1:8000" in lines
    assert {"export AWS_REGION=us-east-1", "export AWS_DEFAULT_REGION=us-east-1"} <= set(lines)
    assert "export AWS_ACCESS_KEY_ID=devstack" in lines and "export AWS_SECRET_ACCESS_KEY=devstack" in lines


def test_a_packaged_reference_to_a_missing_resource_or_attribute_is_a_problem_each(tmp_path: Path) -> None:
    template = {
        "Resources": {
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"DelaySeconds": 0}},
            "Dlq": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "RedrivePolicy": {"deadLetterTargetArn": {"Fn::GetAtt": ["Queu", "Arn"]}, "maxReceiveCount": 3},
                    "Tags": [{"Key": "k", "Value": {"Fn::GetAtt": ["Queue", "Colour"]}}],
                },
            },
        }
    }
    path = tmp_path / "sam.json"
    path.write_text(json.dumps(template, indent=2))
    problems = [str(problem) for problem in reference_problems(path)]
    assert len(problems) == 2
    assert any("E1010 'Queu'" in problem for problem in problems)
    assert any("E1010 'Colour'" in problem for problem in problems)


def test_load_refuses_a_host_that_is_not_devstack_unless_told_it_is_deployed(stranger: int) -> None:
    host = f"http://127.0.0.1:{stranger}"
    with pytest.raises(CommandError, match=f"^something that is not devstack answers on {host}; stop it"):
        target_mode(host, "auto", deployed=False)
    with pytest.raises(CommandError, match=r"^--host https://api\.example\.com is not a devstack; if it is a deployed"):
        target_mode("https://api.example.com", "auto", deployed=False)
    assert target_mode(host, "auto", deployed=True) == "off"
    assert target_mode(f"http://127.0.0.1:{free_port()}", "auto", deployed=False) == "auto"  # devstack starts


def test_a_run_whose_requests_all_failed_or_that_left_a_dlq_message_fails_naming_why(tmp_path: Path) -> None:
    summary = {
        "total": {"requests": 86, "failures": 86},
        "pipeline": {"queue": {"unexpected_in_dlq": 1, "poison_missing": 0}},
        "judge": {"queue.unexpected_in_dlq": "zero", "queue.poison_missing": "zero", "queue.drain_p50_ms": "lower"},
    }
    (tmp_path / "locust_failures.csv").write_text(
        "Method,Name,Error,Occurrences\nGET,/users,HTTPError('404'),6\nPOST,/orders,ConnectionRefusedError(111),80\n"
    )
    assert failed_verdicts(summary, tmp_path) == [
        "all 86 requests failed (most often POST /orders: ConnectionRefusedError(111))",
        "queue.unexpected_in_dlq = 1 (must be 0)",
    ]
    summary["total"], summary["pipeline"] = {"requests": 86, "failures": 3}, {"queue": {"unexpected_in_dlq": 0}}
    assert failed_verdicts(summary, tmp_path) == []
