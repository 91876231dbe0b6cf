"""devstack's settings: `[tool.devstack]` in the project's pyproject.toml < DEVSTACK_* env vars < CLI flags.

    [tool.devstack]
    stage = "dev"                      # the .chalice/config.json stage whose env vars the functions get
    region = "eu-west-1"               # what the functions' clients and ARNs use
    aws_port = 4566                    # the AWS endpoint (AWS_ENDPOINT_URL for the functions)
    api_port = 8000                    # the API (chalice local)
    seed = "scripts.seed:seed_all"     # `module:function` run after provisioning
    resources = "infra/resources.yaml" # CloudFormation resources besides Chalice's own
    settings_class = "chalicelib.config:Settings"  # `devstack check`: the env vars every function needs
    locustfile = "loadtests/locustfile.py"         # `devstack load run`: the locust user classes
    reports_dir = "loadtests/reports"              # `devstack load run`: one folder per run
    expected_errors = ["OutOfStock"]               # console: these errors print one line, no traceback
    reload = true                                  # reload functions when app.py or chalicelib/ change (--no-reload)
    max_batching_window = 0                        # seconds: caps every trigger's batching window (fast tests)
    concurrency = 4                                # execution environments of a function without reserved_concurrency
    snapshot = true                                # restore the last start's provisioned, seeded state (--no-snapshot)

Every key is optional: a `chalice new-project` app runs with none of them.
"""

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    PyprojectTomlConfigSettingsSource,
    SettingsConfigDict,
)

from chalice_devstack.errors import CommandError
from chalice_devstack.project import DEFAULT_RESOURCES

HOST = "127.0.0.1"


class SettingsError(CommandError):
    """A setting has a bad value; the message is one line naming it and where it can be set."""

    exit_code = 2


class Settings(BaseSettings):
    """What a devstack runs with."""

    model_config = SettingsConfigDict(
        env_prefix="DEVSTACK_", extra="forbid", pyproject_toml_table_header=("tool", "devstack")
    )

    stage: str = "dev"
    region: str = "us-east-1"
    aws_port: int = Field(4566, ge=1, le=65535)
    api_port: int = Field(8000, ge=1, le=65535)
    seed: str = ""
    resources: str = str(DEFAULT_RESOURCES)
    single: bool = False  # one process: the endpoint and the functions in devstack's own (`up --single`)
    # Execution environments (worker processes) per function that has no reserved_concurrency in
    # .chalice/config.json; an invocation beyond them waits for one (with a reservation: is throttled).
    concurrency: int = Field(4, ge=1)
    reload: bool = True  # `devstack up` reloads the functions when app.py or chalicelib/ changes
    # Start from a snapshot of an earlier start with the same inputs instead of provisioning and
    # seeding again (chalice_devstack.snapshot); false provisions afresh every time.
    snapshot: bool = True
    settings_class: str = ""
    locustfile: str = "loadtests/locustfile.py"
    reports_dir: str = "loadtests/reports"
    # Error type names (or base class names) that are business outcomes, not bugs: the console
    # prints them as one line. The state machines' Retry/Catch ErrorEquals names count too.
    expected_errors: list[str] = Field(default_factory=list)
    # A cap on every SQS/stream trigger's MaximumBatchingWindowInSeconds. A test suite sets it (0) so a
    # message is handled as soon as it is received instead of after the window AWS would wait; unset,
    # each trigger keeps the window its resources file gives it.
    max_batching_window: float | None = Field(None, ge=0)

    @property
    def endpoint_url(self) -> str:
        """The AWS endpoint's URL."""
        return f"http://{HOST}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        """The API's URL."""
        return f"http://{HOST}:{self.api_port}"


def load_settings(root: Path, **flags: Any) -> Settings:
    """Settings for the project at `root`; flags that are None were not given and do not override."""

    class AtRoot(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return init_settings, env_settings, PyprojectTomlConfigSettingsSource(settings_cls, root / "pyproject.toml")

    try:
        return AtRoot(**{key: value for key, value in flags.items() if value is not None})
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(part) for part in problem["loc"])
        if problem["type"] == "extra_forbidden":
            known = ", ".join(name for name in Settings.model_fields if name != "single")
            where = root / "pyproject.toml"
            raise SettingsError(f"{where} [tool.devstack]: unknown setting {key!r} (known: {known})") from None
        raise SettingsError(
            f"setting {key}={problem.get('input')!r}: {problem['msg']} "
            f"(set in [tool.devstack] of pyproject.toml, DEVSTACK_{key.upper()} or --{key.replace('_', '-')})"
        ) from None
