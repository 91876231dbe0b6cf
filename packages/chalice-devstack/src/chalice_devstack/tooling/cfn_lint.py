"""cfn-lint on a packaged template (SAM transform included), its findings as check problems."""

import subprocess
import sys
from pathlib import Path

from chalice_devstack.tooling.checks import Problem

RULES_URL = "https://github.com/aws-cloudformation/cfn-lint/blob/main/docs/rules.md"


def cfn_lint_problems(template: Path) -> list[Problem]:
    """Every cfn-lint finding (errors, warnings and informational) on the template."""
    cfn_lint = Path(sys.executable).with_name("cfn-lint")
    if not cfn_lint.exists():
        return [Problem(str(template), "cfn-lint is not installed", "pip install 'chalice-devstack[package]'")]
    command = [str(cfn_lint), "--format", "parseable", str(template)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments
    return [finding(line) for line in result.stdout.splitlines() if line.strip()]


def finding(line: str) -> Problem:
    """One `file:line:column:end line:end column:rule:message` line of cfn-lint's parseable output."""
    parts = line.split(":", 6)
    if len(parts) < 7:
        return Problem("cfn-lint", line, "see cfn-lint's output")
    file, row, _, _, _, rule, message = parts
    return Problem(f"{file}:{row}", f"{rule} {message}", f"see {rule} in {RULES_URL}")
