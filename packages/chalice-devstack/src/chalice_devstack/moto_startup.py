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
  share. And each JSON file is parsed once per botocore release, not once per process: the parse
  is kept as a pickle in devstack's cache folder, which loads three to four times faster.
"""

import contextlib
import functools
import hashlib
import importlib.util
import os
import pickle
import shutil
import stat
import sys
import threading
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import JSONFileLoader, Loader

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


def cache_home() -> Path:
    """devstack's cache folder: $XDG_CACHE_HOME (else ~/.cache) /chalice-devstack."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "chalice-devstack"


def share_botocore_loads() -> None:
    """Let every botocore session of this process reuse the models already parsed, and keep each parse (idempotent).

    Also where the functions run: PynamoDB opens a botocore session per thread, and each one
    parsed the DynamoDB model again (a third of the CPU time of an orders burst).
    """
    for method in SHARED_LOADER_METHODS:
        current = getattr(Loader, method)
        if not getattr(current, "shared_across_sessions", False):
            setattr(Loader, method, _shared(method, current))
    keep_parsed_json(cache_home() / "botocore")


def keep_parsed_json(folder: Path) -> None:
    """Read each botocore JSON file from a pickle of its parse kept in folder, made on its first parse (idempotent).

    S3's service model loads in 8 ms, not 34; endpoints.json in 17, not 46: a tenth of the time a
    restored start takes, in the endpoint and in `devstack up` alike. Pickles are kept per botocore
    release (a new release's first start removes the others) and named by the file's path, size and
    modification time. A pickle that cannot be read or written is skipped: the JSON is parsed as before.
    """
    parse = JSONFileLoader._load_file
    if getattr(parse, "keeps_parses", False):
        return
    release = folder / botocore.__version__

    @functools.wraps(parse)
    def load_file(self: JSONFileLoader, full_path: str, open_method: Any) -> Any:
        try:
            found = os.stat(full_path)
        except OSError:
            found = None
        if found is None or not stat.S_ISREG(found.st_mode):
            return None  # as botocore answers a file it does not ship
        kept = release / (hashlib.sha256(f"{full_path}:{found.st_size}:{found.st_mtime_ns}".encode()).hexdigest()[:32])
        with contextlib.suppress(Exception):  # missing, or damaged in any way pickle can fail: parse it again
            return pickle.loads(kept.read_bytes())  # noqa: S301 - devstack's own file, in the user's cache folder
        data = parse(self, full_path, open_method)
        if data is not None:
            _keep(kept, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        return data

    load_file.keeps_parses = True  # type: ignore[attr-defined]
    JSONFileLoader._load_file = load_file


def _keep(path: Path, data: bytes) -> None:
    """Keep one parse, first removing other releases' folders when this release has none yet."""
    with contextlib.suppress(OSError):  # a read-only or full cache folder: every start parses, as without it
        if not path.parent.is_dir():
            for other in path.parent.parent.glob("*"):
                shutil.rmtree(other, ignore_errors=True)
        write_atomically(path, data)


def write_atomically(path: Path, data: bytes) -> None:
    """Write data to path through a temporary file, so a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)  # left only by a write that failed


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
