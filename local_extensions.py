"""Jinja globals for rendering this template: absolute paths inside the checkout being rendered."""

from pathlib import Path
from typing import Any

from jinja2.ext import Extension

# Resolved at import, which cookiecutter does before it changes folder to render files.
TEMPLATE_ROOT = Path(__file__).resolve().parent


class TemplatePaths(Extension):
    """`{{ devstack_source }}`: this checkout's packages/chalice-devstack, for the generated Makefile."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals["devstack_source"] = str(TEMPLATE_ROOT / "packages" / "chalice-devstack")
