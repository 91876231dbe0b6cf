"""Validate the cookiecutter options before anything is written.

Cookiecutter renders this file with Jinja and runs it; the option values are read
as JSON data inside read_options(), never pasted into code, so the raw file stays
importable and its validators can be unit-tested.
"""

import json
import re
import sys
from collections.abc import Callable

# The slug names the directory, the Chalice app and every AWS resource, including
# S3 buckets named "<slug>-<stage>-<account id>-<suffix>" (63 characters at most).
SLUG_PATTERN = re.compile(r"^[a-z][a-z0-9-]{1,29}$")
SLUG_RULE = (
    "2-30 characters of lowercase letters, digits and single hyphens, "
    "starting with a letter, not ending in a hyphen"
)

# Commercial AWS regions (partition "aws"): GovCloud and China need other partitions.
AWS_REGIONS = (
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
)

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
LAMBDA_ARCHITECTURES = ("arm64", "x86_64")
SWITCHES = ("include_orders", "include_uploads", "include_stream", "include_schedule", "include_auth")
OPTION_NAMES = ("project_name", "project", "author_email", "aws_region", "lambda_architecture", *SWITCHES)

Options = dict[str, str]


def read_options() -> Options:
    """Return the options cookiecutter rendered into this file, decoded as JSON data."""
    return {
        "project_name": json.loads(r'''{{ cookiecutter.project_name | tojson }}'''),
        "project": json.loads(r'''{{ cookiecutter.project | tojson }}'''),
        "author_email": json.loads(r'''{{ cookiecutter.author_email | tojson }}'''),
        "aws_region": json.loads(r'''{{ cookiecutter.aws_region | tojson }}'''),
        "lambda_architecture": json.loads(r'''{{ cookiecutter.lambda_architecture | tojson }}'''),
        "include_orders": json.loads(r'''{{ cookiecutter.include_orders | tojson }}'''),
        "include_uploads": json.loads(r'''{{ cookiecutter.include_uploads | tojson }}'''),
        "include_stream": json.loads(r'''{{ cookiecutter.include_stream | tojson }}'''),
        "include_schedule": json.loads(r'''{{ cookiecutter.include_schedule | tojson }}'''),
        "include_auth": json.loads(r'''{{ cookiecutter.include_auth | tojson }}'''),
    }


def derived_slug(project_name: str) -> str:
    """The slug cookiecutter.json derives from project_name when the user leaves `project` alone."""
    return project_name.lower().replace(" ", "-").replace("_", "-")


def check_project(options: Options) -> list[str]:
    """The slug must be usable as a directory, Chalice app and S3 bucket name part.

    A slug the user never typed is reported as the project_name it came from, with both fixes.
    """
    slug, name = options["project"], options["project_name"]
    if SLUG_PATTERN.match(slug) and not slug.endswith("-") and "--" not in slug:
        return []
    if slug != derived_slug(name):
        return [f"project {slug!r} is not a valid slug: use {SLUG_RULE} (e.g. 'orders-service')"]
    if not name.strip():
        return []  # check_project_name reports the blank name
    return [
        f"project_name {name!r} gives the slug {slug!r}, which is not valid (a slug is {SLUG_RULE}): "
        "rename the service, or set project to a valid slug (e.g. project=orders-service)"
    ]


def check_project_name(options: Options) -> list[str]:
    """The human-readable name must not be blank."""
    if options["project_name"].strip():
        return []
    return ["project_name is empty: give the service a human-readable name (e.g. 'Orders Service')"]


def check_author_email(options: Options) -> list[str]:
    """The author email must look like an address (it lands in pyproject.toml)."""
    email = options["author_email"]
    if EMAIL_PATTERN.match(email):
        return []
    return [f"author_email {email!r} is not an email address: use name@domain.tld"]


def check_aws_region(options: Options) -> list[str]:
    """The region must be a commercial AWS region."""
    region = options["aws_region"]
    if region in AWS_REGIONS:
        return []
    return [f"aws_region {region!r} is not a commercial AWS region: use one of {', '.join(AWS_REGIONS)}"]


def check_lambda_architecture(options: Options) -> list[str]:
    """The Lambda architecture must be one Chalice and Lambda support."""
    architecture = options["lambda_architecture"]
    if architecture in LAMBDA_ARCHITECTURES:
        return []
    return [f"lambda_architecture {architecture!r} is not supported: use one of {', '.join(LAMBDA_ARCHITECTURES)}"]


def check_switches(options: Options) -> list[str]:
    """Every include_* switch must be exactly 'y' or 'n'."""
    return [
        f"{name} {options[name]!r} is not a switch value: use 'y' or 'n'"
        for name in SWITCHES
        if options[name] not in ("y", "n")
    ]


def check_schedule_has_work(options: Options) -> list[str]:
    """The scheduled jobs sweep orders and expire uploads, so they need one of the two."""
    if options["include_schedule"] == "y" and options["include_orders"] == "n" and options["include_uploads"] == "n":
        return [
            "include_schedule 'y' needs include_orders 'y' or include_uploads 'y' "
            "(the jobs sweep stuck orders and expire abandoned uploads): set include_schedule to 'n' or switch one on"
        ]
    return []


VALIDATORS: tuple[Callable[[Options], list[str]], ...] = (
    check_project_name,
    check_project,
    check_author_email,
    check_aws_region,
    check_lambda_architecture,
    check_switches,
    check_schedule_has_work,
)


def validate(options: Options) -> list[str]:
    """Return every problem with the options, one message each (empty when all is well)."""
    return [error for validator in VALIDATORS for error in validator(options)]


def main() -> int:
    """Validate the rendered options; print one ERROR line per problem to stderr."""
    errors = validate(read_options())
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
