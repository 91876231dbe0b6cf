"""Jinja globals for rendering this template: absolute paths inside the checkout being rendered."""

from pathlib import Path
from typing import Any

from jinja2.ext import Extension


def template_root() -> str:
    """The template checkout being rendered, as an absolute path.

    cookiecutter renders files from inside the template's `{{cookiecutter.project}}` folder (whose parent
    is the checkout) and hooks from the checkout itself, wherever cookiecutter was started and however
    the template was named (a relative path, gh:..., a clone in ~/.cookiecutters).
    """
    for root in (Path.cwd().parent, Path.cwd()):
        if (root / "cookiecutter.json").is_file():
            return str(root)
    raise RuntimeError(f"template_root(): neither {Path.cwd()} nor its parent is the template checkout")


class TemplatePaths(Extension):
    """`{{ template_root() }}` for the generated Makefile's DEVSTACK_SOURCE."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals["template_root"] = template_root
