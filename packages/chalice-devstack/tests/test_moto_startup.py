"""devstack's moto start-up shortcuts and warm-up: less work before the endpoint answers, the same answers.

Each check runs in a fresh interpreter: the shortcuts change process-wide state (sys.modules,
botocore's Loader), which this test process must not inherit.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore

from chalice_devstack.provision import services_used

PACKAGE_DIR = Path(__file__).resolve().parent.parent


def run_python(code: str, cache: Path | None = None) -> dict[str, object]:
    """Run code in a fresh interpreter in the project, devstack caching in `cache`; return the JSON it prints last."""
    environment = {**os.environ, **({"XDG_CACHE_HOME": str(cache)} if cache is not None else {})}
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PACKAGE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_step_functions_interpreter_loads_without_ec2() -> None:
    # Given: the shortcuts applied; When: moto's Step Functions interpreter is imported
    result = run_python(
        "import json, sys\n"
        "from chalice_devstack import moto_startup\n"
        "moto_startup.apply()\n"
        "import moto.stepfunctions.parser.models\n"
        "print(json.dumps({'ec2': 'moto.ec2' in sys.modules, 'batch_utils': 'moto.batch.utils' in sys.modules}))\n"
    )
    # Then: it got its Batch helpers, and EC2's tables were never built
    assert result == {"ec2": False, "batch_utils": True}


def test_batch_loads_in_full_on_first_use() -> None:
    # Given: the shortcuts applied and the interpreter imported
    result = run_python(
        "import json, sys\n"
        "from chalice_devstack import moto_startup\n"
        "moto_startup.apply()\n"
        "import moto.stepfunctions.parser.models\n"
        "import moto.batch\n"
        "from moto.backends import get_backend\n"
        # When: something asks the Batch package for its backend, as a Batch request does
        "backend = get_backend('batch')['123456789012']['us-east-1']\n"
        "missing = None\n"
        "try:\n"
        "    moto.batch.no_such_name\n"
        "except AttributeError as error:\n"
        "    missing = str(error)\n"
        "print(json.dumps({'backend': type(backend).__name__, 'same': moto.batch.batch_backends is"
        " get_backend('batch'), 'ec2': 'moto.ec2' in sys.modules, 'missing': missing}))\n"
    )
    # Then: the package ran its body (Batch, and EC2 with it), and unknown names still fail
    assert result == {
        "backend": "BatchBackend",
        "same": True,
        "ec2": True,
        "missing": "module 'moto.batch' has no attribute 'no_such_name'",
    }


def test_loaders_share_parsed_files_only_with_the_same_search_paths(tmp_path: Path) -> None:
    # Given: the shortcuts applied; When: three loaders load the SQS model, one with an extra path
    result = run_python(
        "import json\n"
        "from botocore.loaders import Loader, create_loader\n"
        "from chalice_devstack import moto_startup\n"
        "moto_startup.apply()\n"
        "first, second = create_loader(), create_loader()\n"
        f"other = Loader(extra_search_paths=[{str(tmp_path)!r}])\n"
        "model = first.load_service_model('sqs', 'service-2')\n"
        "print(json.dumps({'same': second.load_service_model('sqs', 'service-2') is model,"
        " 'other': other.load_service_model('sqs', 'service-2') is model,"
        " 'operations': 'SendMessage' in model['operations']}))\n"
    )
    # Then: the two default loaders share one parse; the loader that sees other files does not
    assert result == {"same": True, "other": False, "operations": True}


# Loads SQS's model in a fresh interpreter with devstack's shortcuts; prints which JSON files it parsed.
LOAD_SQS_MODEL = (
    "import json\n"
    "import botocore.loaders\n"
    "from chalice_devstack import moto_startup\n"
    "parsed = []\n"
    "parse = botocore.loaders.json.loads\n"
    "botocore.loaders.json.loads = lambda text, **options: parsed.append(1) or parse(text, **options)\n"
    "moto_startup.apply()\n"
    "model = botocore.loaders.create_loader().load_service_model('sqs', 'service-2')\n"
    "print(json.dumps({'parsed': len(parsed), 'operations': 'SendMessage' in model['operations']}))\n"
)


def test_a_json_model_is_parsed_once_then_read_from_its_kept_pickle(tmp_path: Path) -> None:
    # Given: an empty cache folder; When: two processes, one after the other, load SQS's model
    first = run_python(LOAD_SQS_MODEL, cache=tmp_path)
    second = run_python(LOAD_SQS_MODEL, cache=tmp_path)
    # Then: the first parsed its JSON and kept the parse in its botocore release's folder; the second parsed none
    assert first["parsed"] != 0
    assert second == {"parsed": 0, "operations": True}
    [release] = (tmp_path / "chalice-devstack" / "botocore").iterdir()
    assert release.name == botocore.__version__
    assert list(release.iterdir())


def test_a_damaged_kept_parse_is_parsed_again_and_other_releases_are_removed(tmp_path: Path) -> None:
    # Given: another botocore release's folder, and this release's parses kept, then all damaged
    stale = tmp_path / "chalice-devstack" / "botocore" / "0.0.1"
    stale.mkdir(parents=True)
    run_python(LOAD_SQS_MODEL, cache=tmp_path)
    release = tmp_path / "chalice-devstack" / "botocore" / botocore.__version__
    for kept in release.iterdir():
        kept.write_bytes(b"not a pickle")
    # When: a process loads the model again
    again = run_python(LOAD_SQS_MODEL, cache=tmp_path)
    # Then: it parsed the JSON (same answer), the other release is gone, and a good parse is kept again
    assert again["parsed"] != 0 and again["operations"] is True
    assert not stale.exists()
    assert run_python(LOAD_SQS_MODEL, cache=tmp_path)["parsed"] == 0


def test_warm_up_answers_every_service_devstack_uses_and_creates_nothing() -> None:
    # Given: moto's server app as the endpoint builds it; When: the child's warm-up runs
    result = run_python(
        "import json\n"
        "from chalice_devstack.endpoint import WARM_REQUESTS, moto_app, warm\n"
        "from moto.backends import get_backend\n"
        "statuses = warm(moto_app(), 'us-east-1', [*WARM_REQUESTS, 'not-a-service'])\n"
        "tables = get_backend('dynamodb')['123456789012']['us-east-1'].tables\n"
        "print(json.dumps({'statuses': statuses, 'tables': len(tables)}))\n"
    )
    # Then: each service answered its read-only request, unknown names are skipped, nothing was created
    assert result == {
        "statuses": dict.fromkeys(
            ["dynamodb", "dynamodbstreams", "sqs", "stepfunctions", "sns", "s3", "cognito-idp"], 200
        ),
        "tables": 0,
    }


def test_services_used_follow_the_resources_file() -> None:
    # Given: a template with a streamed table, a queue and an IAM role (no local effect)
    table: dict[str, Any] = {"Type": "AWS::DynamoDB::Table", "Properties": {"StreamSpecification": {}}}
    template = {
        "Resources": {
            "Table": table,
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {}},
            "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
            "Alarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {}},
        }
    }
    # Then: the services devstack will call, and no others
    assert services_used(template) == ["dynamodb", "dynamodbstreams", "sqs"]
    table["Properties"] = {}
    assert services_used(template) == ["dynamodb", "sqs"]
