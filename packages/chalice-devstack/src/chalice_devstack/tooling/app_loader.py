"""Import a project's Chalice app as Lambda does: from the project root, with one stage's environment."""

import importlib
import os
import sys
from typing import Any

from chalice_devstack.project import Project, app_functions


def load_app(project: Project, stage: str) -> Any:
    """The `app` object of the project's app.py, imported with the stage's environment variables."""
    os.environ.update(project.function_environment(stage))
    root = str(project.root)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module("app").app


def function_handlers(app: Any) -> dict[str, str]:
    """Each Chalice function name mapped to its Lambda handler string (`module.attribute`)."""
    # A blueprint's function runs from its own module (Handler `chalicelib.<module>.<function>`):
    # Lambda imports that module, not app.py.
    found = {"api_handler": "app.app"} if app.routes else {}
    found.update({function.name: function.handler_string for function in app_functions(app)})
    return found
