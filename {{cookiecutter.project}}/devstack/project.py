"""The service's own files, read the way Chalice and CloudFormation read them."""

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
RESOURCES_FILE = PROJECT_DIR / "infra" / "resources.yaml"
CHALICE_CONFIG_FILE = PROJECT_DIR / ".chalice" / "config.json"
LOCAL_ACCOUNT_ID = "123456789012"


class ProjectFileError(Exception):
    """A project file is missing or malformed; the message names the file and the problem."""


def load_resources(path: Path = RESOURCES_FILE) -> dict[str, Any]:
    """Parse infra/resources.yaml (long-form intrinsics only) into a template dict."""
    try:
        template = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ProjectFileError(f"{path}: {error}") from error
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise ProjectFileError(f"{path}: expected a mapping with a 'Resources' section")
    return template


def _config_layers(stage: str, function: str | None, path: Path) -> list[dict[str, Any]]:
    """The .chalice/config.json sections that apply to a function, weakest first."""
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise ProjectFileError(f"{path}: {error}") from error
    stage_config = config.get("stages", {}).get(stage)
    if stage_config is None:
        raise ProjectFileError(f"{path}: no stage named {stage!r}")
    layers: list[dict[str, Any]] = [config, stage_config]
    if function:
        layers += [
            config.get("lambda_functions", {}).get(function, {}),
            stage_config.get("lambda_functions", {}).get(function, {}),
        ]
    return layers


def function_environment(stage: str, function: str | None = None, path: Path = CHALICE_CONFIG_FILE) -> dict[str, str]:
    """Return the env vars Chalice gives a function in a stage (global < stage < function)."""
    env: dict[str, str] = {}
    for layer in _config_layers(stage, function, path):
        env.update(layer.get("environment_variables", {}))
    return env


def function_setting(stage: str, function: str | None, key: str, default: Any, path: Path = CHALICE_CONFIG_FILE) -> Any:
    """One scalar setting (lambda_timeout, lambda_memory_size...) as Chalice resolves it for a function."""
    value = default
    for layer in _config_layers(stage, function, path):
        value = layer.get(key, value)
    return value


@dataclass(frozen=True)
class Scope:
    """What intrinsics resolve against: parameters and already-known resource attributes."""

    parameters: dict[str, str]
    attributes: dict[str, dict[str, str]]

    def ref(self, name: str) -> str:
        """Resolve Ref: a parameter, a pseudo parameter or a resource's primary id."""
        if name in self.parameters:
            return self.parameters[name]
        return self.get_att(name, "Ref")

    def get_att(self, resource: str, attribute: str) -> str:
        """Resolve Fn::GetAtt against the resources known so far."""
        try:
            return self.attributes[resource][attribute]
        except KeyError:
            raise ProjectFileError(f"resources.yaml: cannot resolve {resource}.{attribute}") from None


def default_parameters(template: dict[str, Any], stage: str, region: str) -> dict[str, str]:
    """Template parameter defaults plus the pseudo parameters CloudFormation provides."""
    params = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    params.update(
        {
            "Stage": stage,
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"{PROJECT_DIR.name}-{stage}",
        }
    )
    return params


def resolve(value: Any, scope: Scope) -> Any:
    """Resolve Ref / Fn::GetAtt / Fn::Sub / Fn::Join inside value, recursively."""
    if isinstance(value, list):
        return [resolve(item, scope) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return scope.ref(arg)
        if key == "Fn::GetAtt":
            resource, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            return scope.get_att(resource, attribute)
        if key == "Fn::Sub":
            return _substitute(arg, scope)
        if key == "Fn::Join":
            separator, items = arg
            return separator.join(str(item) for item in resolve(items, scope))
    return {key: resolve(item, scope) for key, item in value.items()}


def _substitute(arg: str | list[Any], scope: Scope) -> str:
    """Fn::Sub: ${Name}, ${Resource.Attr} and ${AWS::Pseudo}, with optional local variables."""
    text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], resolve(arg[1], scope))

    def replace(match: "re.Match[str]") -> str:
        name = match.group(1)
        if name in variables:
            return str(variables[name])
        if "." in name and not name.startswith("AWS::"):
            return scope.get_att(*name.split(".", 1))
        return scope.ref(name)

    return re.sub(r"\$\{([^}!]+)\}", replace, text)


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
