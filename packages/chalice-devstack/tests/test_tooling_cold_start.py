"""The cold-start benchmark times the modules Lambda really imports."""

import importlib
import os
from unittest import mock

from scripts.bench_cold_start import handlers


def resolve(handler: str) -> object:
    """Import a `module.attribute` handler string the way Lambda's runtime does."""
    module, _, attribute = handler.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_every_function_has_a_handler_string_lambda_can_resolve() -> None:
    """Given the app, when its handlers are listed, then each names a module attribute that exists."""
    with mock.patch.dict(os.environ):
        found = handlers("dev")
    assert found["api_handler"] == "app.app"
    assert {name: callable(resolve(handler)) for name, handler in found.items()} == dict.fromkeys(found, True)
