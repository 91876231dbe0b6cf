"""Imported by the execution environments' forkserver: the app's dependencies, once, for every worker it forks.

The modules are those importing app.py loaded besides the project's own (environments.preload_modules),
named in DEVSTACK_PRELOAD. One that fails to import is skipped: the worker imports it again itself,
and its error, if any, is the function's.
"""

import importlib
import os

from chalice_devstack import environments  # noqa: F401 - what every worker runs

for _name in filter(None, os.environ.get("DEVSTACK_PRELOAD", "").split(",")):
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: S112 - see the docstring
        continue
