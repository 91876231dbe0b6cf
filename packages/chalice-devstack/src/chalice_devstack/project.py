"""A Chalice project on disk: its files found from any folder inside it, read the way Chalice reads them."""

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from chalice_devstack.errors import CommandError

CHALICE_CONFIG = Path(".chalice") / "config.json"
DEFAULT_RESOURCES = Path("infra") / "resources.yaml"
LOCAL_ACCOUNT_ID = "123456789012"


class ProjectFileError(CommandError):
    """A project file is missing or malformed; the message names the file and the problem."""

    exit_code = 2


@dataclass(frozen=True)
class Project:
    """One Chalice project: `app.py` and `.chalice/config.json` under `root`, plus an optional resources file."""

    root: Path
    resources_file: Path

    @classmethod
    def at(cls, root: Path, resources: str | Path = DEFAULT_RESOURCES) -> "Project":
        """The project rooted at `root` (resources relative to it unless absolute)."""
        root = root.resolve()
        if not (root / CHALICE_CONFIG).is_file():
            raise ProjectFileError(f"{root}: not a Chalice project (no {CHALICE_CONFIG})")
        return cls(root, root / resources)

    @classmethod
    def discover(cls, start: Path | None = None, resources: str | Path = DEFAULT_RESOURCES) -> "Project":
        """The project containing `start` (default: the current folder), found like git finds a repository."""
        here = (start or Path.cwd()).resolve()
        for folder in (here, *here.parents):
            if (folder / CHALICE_CONFIG).is_file():
                return cls.at(folder, resources)
        raise ProjectFileError(f"{here}: not inside a Chalice project (no {CHALICE_CONFIG} here or above)")

    @property
    def name(self) -> str:
        """The folder's name: what CloudFormation's AWS::StackName starts with locally."""
        return self.root.name

    @property
    def chalice_config_file(self) -> Path:
        """The project's .chalice/config.json."""
        return self.root / CHALICE_CONFIG

    def chalice_config(self) -> dict[str, Any]:
        """.chalice/config.json, parsed."""
        try:
            config = json.loads(self.chalice_config_file.read_text())
        except (OSError, ValueError) as error:
            raise ProjectFileError(f"{self.chalice_config_file}: {error}") from error
        if not isinstance(config, dict):
            raise ProjectFileError(f"{self.chalice_config_file}: expected a JSON object")
        return config

    def stages(self) -> list[str]:
        """The stages .chalice/config.json defines."""
        return sorted(self.chalice_config().get("stages", {}))

    def check_stage(self, stage: str) -> None:
        """Raise ProjectFileError, naming the stages there are, unless .chalice/config.json defines stage."""
        if stage not in self.stages():
            known = ", ".join(self.stages()) or "none"
            raise ProjectFileError(
                f"no stage {stage!r} in {CHALICE_CONFIG} (its stages: {known}); "
                f'pick one of those (--stage, or STAGE= with make) or add {stage!r} under "stages" there'
            )

    def resources(self) -> dict[str, Any]:
        """The resources template (long-form intrinsics only); no file means no resources."""
        if not self.resources_file.exists():
            return {"Resources": {}}
        return load_resources(self.resources_file)

    def relative(self, path: str | Path) -> str:
        """A path as the user would type it: relative to the project when inside it."""
        resolved = Path(path).resolve()
        return str(resolved.relative_to(self.root)) if resolved.is_relative_to(self.root) else str(path)

    def _config_layers(self, stage: str, function: str | None) -> list[dict[str, Any]]:
        """The .chalice/config.json sections that apply to a function, weakest first."""
        config = self.chalice_config()
        stage_config = config.get("stages", {}).get(stage)
        if stage_config is None:
            self.check_stage(stage)
        layers: list[dict[str, Any]] = [config, stage_config]
        if function:
            layers += [
                config.get("lambda_functions", {}).get(function, {}),
                stage_config.get("lambda_functions", {}).get(function, {}),
            ]
        return layers

    def function_environment(self, stage: str, function: str | None = None) -> dict[str, str]:
        """The env vars Chalice gives a function in a stage (global < stage < function)."""
        env: dict[str, str] = {}
        for layer in self._config_layers(stage, function):
            env.update(layer.get("environment_variables", {}))
        return env

    def function_setting(self, stage: str, function: str | None, key: str, default: Any) -> Any:
        """One scalar setting (lambda_timeout, lambda_memory_size...) as Chalice resolves it for a function."""
        value = default
        for layer in self._config_layers(stage, function):
            value = layer.get(key, value)
        return value


# libyaml's loader when PyYAML has it: six times faster on a service's resources file.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_resources(path: Path) -> dict[str, Any]:
    """Parse a resources template (long-form intrinsics only) into a dict (a copy the caller may change)."""
    try:
        modified = path.stat().st_mtime_ns
    except OSError as error:
        raise ProjectFileError(f"{path}: {error.strerror}") from error
    return copy.deepcopy(_parsed_resources(path, modified))


@lru_cache(maxsize=16)
def _parsed_resources(path: Path, _modified_ns: int) -> dict[str, Any]:
    """The file parsed once per version (tests and checks read it many times)."""
    try:
        template = yaml.load(path.read_text(), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except OSError as error:
        raise ProjectFileError(f"{path}: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ProjectFileError(yaml_problem(path, error)) from None
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ProjectFileError(f"{path}: expected a mapping with a 'Resources' section")
    return template


def yaml_problem(path: Path, error: yaml.YAMLError) -> str:
    """A YAML error as one `file:line:column: problem` line (PyYAML's own spans several)."""
    mark = getattr(error, "problem_mark", None)
    where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    return f"{where}: {problem}" + (f" ({context})" if context else "") + "; fix the YAML there"


def logical_id(function_name: str) -> str:
    """The CloudFormation logical id `chalice package` gives a function: snake_case -> CamelCase."""
    return "".join(part[:1].upper() + part[1:] for part in function_name.split("_"))


def offline_aws_environment(region: str, credential: str) -> dict[str, str]:
    """Region, fake credentials (nothing can reach a real account) and endpoint settings for a local AWS."""
    return {
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_ACCESS_KEY_ID": credential,
        "AWS_SECRET_ACCESS_KEY": credential,
        # botocore >= 1.38 sends DynamoDB Streams calls to <account>.streams-ddb.<region>, a host neither
        # devstack's endpoint nor mock_aws routes; the regional endpoint is the same API.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


def app_functions(app: Any) -> list[Any]:
    """A Chalice app's Lambda functions besides the API handler: pure functions, then event handlers."""
    return [*app.pure_lambda_functions, *app.event_sources]


def function_attributes(app_name: str, stage: str, region: str, names: list[str]) -> dict[str, dict[str, str]]:
    """Ref (physical name) and Arn of each Chalice function, by logical id, as deployed locally."""
    attributes = {}
    for name in names:
        physical = f"{app_name}-{stage}-{name}"
        arn = f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT_ID}:function:{physical}"
        attributes[logical_id(name)] = {"Ref": physical, "Arn": arn}
    return attributes
