"""Start-up shortcuts for moto in the AWS endpoint: the same moto, with less work before it answers.

Two costs dominated devstack's time to ready, and neither does anything for this service:

- moto's Step Functions interpreter imports its Batch integration, which imports `moto.batch`,
  whose package imports `moto.ec2`; EC2's region and instance-type tables take about 0.8 s to
  build. `moto.batch` is installed as a lazy package: its submodules import as usual (the
  interpreter only needs `moto.batch.utils`), and the package's own body (Batch's backend, and so
  EC2) runs on the first attribute anyone asks of it, as a Batch request does.
- every moto backend and every boto3 `Session` parses botocore's JSON models again (endpoints,
  partitions, the service model); each parse gives the same data. `Loader` results are shared
  across sessions, keyed by the loader's search paths so a loader that sees other files does not
  share.
"""

import functools
import importlib.util
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from botocore.loaders import Loader

LAZY_PACKAGES = ("moto.batch",)
# Loader's per-instance cached methods (botocore.loaders.instance_cache): models, endpoints, listings.
SHARED_LOADER_METHODS = (
    "load_service_model",
    "load_data_with_path",
    "list_available_services",
    "determine_latest_version",
    "list_api_versions",
)
_SHARED_LOADS: dict[tuple[Any, ...], Any] = {}


def apply() -> None:
    """Install both shortcuts (idempotent); call before moto handles its first request."""
    share_botocore_loads()
    for name in LAZY_PACKAGES:
        if name not in sys.modules:
            install_lazy_package(name)


def share_botocore_loads() -> None:
    """Let every botocore session of this process reuse the models already parsed (idempotent).

    Also where the functions run: PynamoDB opens a botocore session per thread, and each one
    parsed the DynamoDB model again (a third of the CPU time of an orders burst).
    """
    for method in SHARED_LOADER_METHODS:
        current = getattr(Loader, method)
        if not getattr(current, "shared_across_sessions", False):
            setattr(Loader, method, _shared(method, current))


def _shared(method: str, load: Callable[..., Any]) -> Callable[..., Any]:
    """A Loader method whose results every loader with the same search paths reuses."""

    @functools.wraps(load)
    def shared_load(self: Loader, *args: Any, **kwargs: Any) -> Any:
        key = (method, tuple(self.search_paths), args, tuple(sorted(kwargs.items())))
        if key not in _SHARED_LOADS:
            _SHARED_LOADS[key] = load(self, *args, **kwargs)
        return _SHARED_LOADS[key]

    shared_load.shared_across_sessions = True  # type: ignore[attr-defined]
    return shared_load


def install_lazy_package(name: str) -> types.ModuleType:
    """Register package `name` without running its `__init__`; the first attribute lookup runs it."""
    parent, _, child = name.rpartition(".")
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ImportError(f"{name} is not an importable package")
    package = importlib.util.module_from_spec(spec)  # __path__ set: submodules import without the body
    loading = threading.Lock()

    def load_on_first_use(attribute: str) -> Any:
        with loading:
            if package.__dict__.pop("__getattr__", None) is not None:
                spec.loader.exec_module(package)  # type: ignore[union-attr]
        try:
            return package.__dict__[attribute]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attribute!r}") from None

    package.__getattr__ = load_on_first_use  # type: ignore[method-assign]  # PEP 562: asked for names not yet set
    sys.modules[name] = package
    if parent:
        setattr(importlib.import_module(parent), child, package)
    return package
