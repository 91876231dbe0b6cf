"""cfn-lint on a packaged template (SAM transform included), its findings as check problems."""

import re
import subprocess
import sys
from pathlib import Path

from chalice_devstack.tooling.checks import Problem

RULES_URL = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md"
NOT_INSTALLED = "cfn-lint is not installed"
# cfn-lint's rules for references to what the template lacks: GetAtt (resource or attribute), Ref, Sub, DependsOn.
REFERENCE_RULES = frozenset({"E1010", "E1012", "E1019", "E3005"})


def cfn_lint_problems(template: Path) -> list[Problem]:
    """Every cfn-lint finding (errors, warnings and informational) on the template."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    if not cfn_lint.exists():
        return [Problem(str(template), NOT_INSTALLED, "pip install 'chalice-devstack[package]'")]
    command = [str(cfn_lint), "--format", "parseable", str(template)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    return [finding(line) for line in result.stdout.splitlines() if line.strip()]


def reference_problems(template: Path) -> list[Problem]:
    """cfn-lint's findings of references to resources, attributes or parameters the template does not have."""
    return [problem for problem in cfn_lint_problems(template) if problem.what.split(" ", 1)[0] in REFERENCE_RULES
            or problem.what == NOT_INSTALLED]  # fmt: skip


def finding(line: str) -> Problem:
    """One `file:line:column:end line:end column:rule:message` line of cfn-lint's parseable output."""
    parts = line.split(":", 6)
    if len(parts) < 7:
        return Problem("cfn-lint", line, "see cfn-lint's output")
    file, row, _, _, _, rule, message = parts
    # cfn-lint lists every resource a GetAtt could name: a line per problem stays readable without it.
    message = re.sub(r"is not one of \[[^\]]{200,}\]", "is not a resource of the template", message)
    return Problem(f"{file}:{row}", f"{rule} {message}", f"see {rule} in {RULES_URL}")
