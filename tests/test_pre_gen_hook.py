"""The pre-gen hook: each rule unit-tested, and bad values stopping a real render."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config

from tests.support import REPO_ROOT, default_options, load_hook, subprocess_env

hook = load_hook("pre_gen_project")


def options(**changes: str) -> dict[str, Any]:
    """The default options with some values changed."""
    return {**default_options(), **changes}


def resolved_options(**extra: str) -> dict[str, Any]:
    """The options cookiecutter resolves without prompts from cookiecutter.json plus extra context."""
    context = generate_context(context_file=str(REPO_ROOT / "cookiecutter.json"), extra_context=extra)
    return dict(prompt_for_config(context, no_input=True))


def test_defaults_are_valid() -> None:
    """Given cookiecutter.json's defaults, when validated, then there is no error."""
    assert hook.validate(options()) == []


def test_raw_hook_is_importable_without_rendering() -> None:
    """Given the unrendered hook file, then importing it defines the validators and reads nothing."""
    assert callable(hook.validate) and callable(hook.main)
    with pytest.raises(ValueError, match="Expecting property name"):
        hook.read_options()  # the Jinja placeholders are not JSON until cookiecutter renders them


@pytest.mark.parametrize("slug", ["ab", "orders-service", "a1-b2-c3", "x" * 30, "svc2"])
def test_good_slugs_pass(slug: str) -> None:
    """Given a lowercase slug of 2-30 chars with single inner hyphens, then it is accepted."""
    assert hook.check_project(options(project=slug)) == []


@pytest.mark.parametrize(
    "slug",
    ["", "a", "Orders", "orders_service", "1orders", "-orders", "orders-", "orders--service", "x" * 31,
     "orders service", "orders.service", "ørders"],
)
def test_bad_slugs_are_rejected_naming_the_rule(slug: str) -> None:
    """Given a slug unusable in an S3 bucket name, then the error names project and the rule."""
    [error] = hook.check_project(options(project=slug))
    assert error.startswith(f"project {slug!r} is not a valid slug")
    assert "lowercase letters, digits and single hyphens" in error


@pytest.mark.parametrize("name", ["My Service!", "2 Fast", "Café Orders", "x" * 31])
def test_a_bad_slug_derived_from_project_name_is_reported_as_project_name(name: str) -> None:
    """Given a project_name that derives a bad slug (project unset), then project_name is named, with both fixes."""
    [error] = hook.validate(options(project_name=name, project=hook.derived_slug(name)))
    assert error.startswith(f"project_name {name!r} gives the slug {hook.derived_slug(name)!r}, which is not valid")
    assert error.endswith("rename the service, or set project to a valid slug (e.g. project=orders-service)")


@pytest.mark.parametrize("name", ["Orders Service", "my_service Two", "Billing API"])
def test_derived_slug_is_the_one_cookiecutter_json_derives(name: str) -> None:
    """Given a project_name, then derived_slug is the slug cookiecutter resolves from cookiecutter.json."""
    assert hook.derived_slug(name) == resolved_options(project_name=name)["project"]


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_project_name_is_rejected_once(name: str) -> None:
    """Given a blank human name (and the slug derived from it), then project_name alone is reported."""
    assert hook.validate(options(project_name=name, project=hook.derived_slug(name))) == [
        "project_name is empty: give the service a human-readable name (e.g. 'Orders Service')"
    ]


@pytest.mark.parametrize("email", ["you@example.com", "first.last+tag@sub.example.co.uk"])
def test_plausible_emails_pass(email: str) -> None:
    """Given a plausible address, then it is accepted."""
    assert hook.check_author_email(options(author_email=email)) == []


@pytest.mark.parametrize("email", ["", "you", "you@", "@example.com", "you@example", "you@@example.com",
                                   "you @example.com", "you@example.", "you@.com"])
def test_bad_emails_are_rejected(email: str) -> None:
    """Given something that is not an address, then author_email is reported with the expected form."""
    [error] = hook.check_author_email(options(author_email=email))
    assert error == f"author_email {email!r} is not an email address: use name@domain.tld"


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1", "ap-southeast-2", "sa-east-1"])
def test_commercial_regions_pass(region: str) -> None:
    """Given a commercial region, then it is accepted."""
    assert hook.check_aws_region(options(aws_region=region)) == []


@pytest.mark.parametrize("region", ["us-east-9", "US-EAST-1", "us-gov-west-1", "cn-north-1", "mars-1", ""])
def test_other_regions_are_rejected_listing_the_allowed(region: str) -> None:
    """Given an unknown, GovCloud or China region, then aws_region is reported with the allowed list."""
    [error] = hook.check_aws_region(options(aws_region=region))
    assert error.startswith(f"aws_region {region!r} is not a commercial AWS region: use one of ")
    assert "us-east-1" in error and "eu-central-1" in error


def test_region_list_is_sorted_and_unique() -> None:
    """Given the allowed regions, then the list is kept sorted without duplicates (easy to review)."""
    assert list(hook.AWS_REGIONS) == sorted(set(hook.AWS_REGIONS))


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_lambda_architectures_pass(architecture: str) -> None:
    """Given a Lambda architecture, then it is accepted."""
    assert hook.check_lambda_architecture(options(lambda_architecture=architecture)) == []


def test_unknown_architecture_is_rejected() -> None:
    """Given an architecture Lambda lacks, then the allowed ones are named."""
    assert hook.check_lambda_architecture(options(lambda_architecture="amd64")) == [
        "lambda_architecture 'amd64' is not supported: use one of arm64, x86_64"
    ]


@pytest.mark.parametrize("value", ["yes", "Y", "no", "true", "1", ""])
def test_switches_take_only_y_or_n(value: str) -> None:
    """Given a switch that is not exactly y/n, then that switch alone is named."""
    assert hook.check_switches(options(include_stream=value)) == [
        f"include_stream {value!r} is not a switch value: use 'y' or 'n'"
    ]


@pytest.mark.parametrize(
    ("orders", "uploads", "schedule", "ok"),
    [("n", "n", "y", False), ("n", "n", "n", True), ("y", "n", "y", True), ("n", "y", "y", True)],
)
def test_schedule_needs_orders_or_uploads(orders: str, uploads: str, schedule: str, ok: bool) -> None:
    """Given the schedule switched on, then orders or uploads must be on for the jobs to have work."""
    errors = hook.check_schedule_has_work(
        options(include_orders=orders, include_uploads=uploads, include_schedule=schedule)
    )
    assert (errors == []) is ok
    if not ok:
        assert errors[0].startswith("include_schedule 'y' needs include_orders 'y' or include_uploads 'y'")


def test_validate_reports_every_problem() -> None:
    """Given several bad values, when validated, then each is reported once, in option order."""
    errors = hook.validate(options(project="Bad", aws_region="nowhere", include_orders="maybe"))
    assert [error.split(" ")[0] for error in errors] == ["project", "aws_region", "include_orders"]


# --- through a real cookiecutter render -------------------------------------------------


def render_cli(template_dir: Path, output_dir: Path, **context: str) -> subprocess.CompletedProcess[str]:
    """Run the cookiecutter CLI without prompts, as a user would."""
    extra = [f"{key}={value}" for key, value in context.items()]
    command = [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(output_dir), str(template_dir)]
    return subprocess.run(
        [*command, *extra],
        capture_output=True, text=True, env=subprocess_env(), timeout=120, check=False,
    )


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"project": "My_Service"}, "ERROR: project 'My_Service' is not a valid slug: use 2-30 characters"),
        ({"project": "svc--x"}, "ERROR: project 'svc--x' is not a valid slug"),
        ({"project_name": "My Service!"}, "ERROR: project_name 'My Service!' gives the slug 'my-service!'"),
        ({"aws_region": "moon-1"}, "ERROR: aws_region 'moon-1' is not a commercial AWS region: use one of "),
        ({"author_email": "nobody"}, "ERROR: author_email 'nobody' is not an email address: use name@domain.tld"),
        ({"include_uploads": "yes"}, "ERROR: include_uploads 'yes' is not a switch value: use 'y' or 'n'"),
        ({"include_orders": "n", "include_uploads": "n"}, "ERROR: include_schedule 'y' needs include_orders 'y'"),
        ({"project_name": "Ça va \"quoted\" '''", "project": "ok-svc", "author_email": "a'''b"},
         "ERROR: author_email \"a'''b\" is not an email address"),
    ],
    ids=["slug-case", "slug-double-hyphen", "slug-from-name", "region", "email", "switch", "schedule-combo",
         "quotes-read-as-data"],
)
def test_bad_option_stops_render_with_one_clear_line(
    template_dir: Path, tmp_path: Path, context: dict[str, str], message: str
) -> None:
    """Given a bad option value, when cookiecutter renders, then it fails with one ERROR line and writes nothing."""
    result = render_cli(template_dir, tmp_path, **context)
    assert result.returncode != 0
    our_lines = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ") and "Stopping" not in line]
    assert len(our_lines) == 1, result.stderr
    assert our_lines[0].startswith(message), result.stderr
    assert list(tmp_path.iterdir()) == []


def test_unknown_choice_is_refused_by_cookiecutter(template_dir: Path, tmp_path: Path) -> None:
    """Given a lambda_architecture outside the choice list, then cookiecutter itself refuses it, writing nothing."""
    result = render_cli(template_dir, tmp_path, lambda_architecture="amd64")
    assert result.returncode != 0
    assert "amd64 provided for choice variable lambda_architecture" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_good_options_render(template_dir: Path, tmp_path: Path) -> None:
    """Given valid non-default options, when rendered, then the project folder is named after the slug."""
    result = render_cli(template_dir, tmp_path, project_name="Billing API", aws_region="eu-west-1",
                        lambda_architecture="x86_64")
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["billing-api"]
