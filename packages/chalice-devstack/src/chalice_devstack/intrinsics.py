"""CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Sub, Fn::Join) resolved against local resources."""

import re
from dataclasses import dataclass
from typing import Any

from chalice_devstack.project import LOCAL_ACCOUNT_ID, ProjectFileError


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


def default_parameters(template: dict[str, Any], stage: str, region: str, stack_name: str) -> dict[str, str]:
    """Template parameter defaults plus the pseudo parameters CloudFormation provides."""
    params = {name: str(spec.get("Default", "")) for name, spec in template.get("Parameters", {}).items()}
    params.update(
        {
            "Stage": stage,
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": f"{stack_name}-{stage}",
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
