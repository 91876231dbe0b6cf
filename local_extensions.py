"""Jinja globals for rendering this template: absolute paths inside the checkout being rendered."""

from pathlib import Path
from typing import Any

from jinja2.ext import Extension


def template_root() -> str:
    """The template checkout being rendered, as an absolute path.

    cookiecutter renders files from inside the template's `{{cookiecutter.project}}` folder, so
    that folder's parent is the checkout, wherever cookiecutter was started and however the
    template was named (a relative path, gh:..., a clone in ~/.cookiecutters).
    """
    root = Path.cwd().parent
    if not (root / "cookiecutter.json").is_file():
        raise RuntimeError(f"template_root(): {root} is not the template checkout (no cookiecutter.json)")
    return str(root)


class TemplatePaths(Extension):
    """`{{ template_root() }}` for the generated Makefile's DEVSTACK_SOURCE."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = template_root
