"""Start-up snapshots: the AWS state a start provisioned and seeded, saved once and restored by the next start.

Most of `devstack up`'s time after moto is imported goes to provisioning the resources file over
moto's API and running the seed hook. A start that did that has the endpoint pickle moto's backends
(one file: objects shared between services, such as a table and its stream, stay shared) and writes
what it resolved (the intrinsics' scope, the seed's summary) beside it. The next start with the same
inputs restores both instead: the same tables, queues, state machines, user pools and seeded items,
none of the calls. Nothing a user did after start-up is in a snapshot: it is taken before `ready`.

The key covers every input of that state: the Python, moto and devstack versions (devstack's source
files too, for editable installs), the stage and region, the resources file, .chalice/config.json,
pyproject.toml and the project's Python files (the seed hook and what it imports). Not the AWS port:
the resolved values that name the endpoint (queue URLs) are re-pointed at this start's. Data files a
seed hook reads itself are not in the key: `up --no-snapshot` (setting `snapshot = false`) provisions
afresh. Snapshots live in the user's cache folder (`$XDG_CACHE_HOME`, else ~/.cache,
/chalice-devstack/snapshots); the KEEP written or used last are kept.
"""

import contextlib
import hashlib
import importlib
import io
import json
import os
import pickle
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

from chalice_devstack.intrinsics import Scope
from chalice_devstack.moto_startup import cache_home, write_atomically
from chalice_devstack.project import Project

# What `devstack up` prints when it started from a snapshot (tooling and tests look for it).
RESTORED_NOTE = "  state         restored from the snapshot of an earlier start (--no-snapshot: afresh)"
KEEP = 12  # snapshots kept; a start writes one only for inputs no kept snapshot has
FORMAT = 2  # bump when what a snapshot holds changes shape
# Folders never searched for the project's Python files: virtualenvs are found by their pyvenv.cfg.
SKIPPED_FOLDERS = frozenset({"__pycache__", "node_modules"})


def cache_folder() -> Path:
    """Where snapshots live: $XDG_CACHE_HOME (else ~/.cache) /chalice-devstack/snapshots."""
    return cache_home() / "snapshots"


@dataclass(frozen=True)
class Snapshot:
    """One snapshot's two files: moto's backends (written by the endpoint) and the start's scope and seed summary."""

    backends_file: Path
    meta_file: Path

    @classmethod
    def for_start(cls, project: Project, stage: str, region: str, folder: Path | None = None) -> "Snapshot":
        """The snapshot of a start with these inputs (its files need not exist)."""
        key = start_key(project, stage, region)
        folder = folder or cache_folder()
        return cls(folder / f"{key}.backends.pickle", folder / f"{key}.json")

    def exists(self) -> bool:
        """True when both files are there (the meta file is written last)."""
        return self.backends_file.is_file() and self.meta_file.is_file()

    def read_meta(self, endpoint_url: str) -> tuple[Scope, Any]:
        """The scope and the seed's summary saved with the snapshot, its endpoint URLs made endpoint_url."""
        meta = json.loads(self.meta_file.read_text())
        saved_url = meta["endpoint_url"]

        def repoint(values: dict[str, str]) -> dict[str, str]:
            return {name: value.replace(saved_url, endpoint_url) for name, value in values.items()}

        scope = meta["scope"]
        attributes = {resource: repoint(values) for resource, values in scope["attributes"].items()}
        return Scope(repoint(scope["parameters"]), attributes), meta["seeded"]

    def write_meta(self, scope: Scope, seeded: Any, endpoint_url: str) -> None:
        """Save the start's scope and seed summary, atomically; then keep only the newest KEEP snapshots."""
        scope_data = {"parameters": scope.parameters, "attributes": scope.attributes}
        meta = {"format": FORMAT, "endpoint_url": endpoint_url, "scope": scope_data, "seeded": seeded}
        write_atomically(self.meta_file, json.dumps(meta, default=str).encode())
        prune(self.meta_file.parent)

    def discard(self) -> None:
        """Delete both files (a snapshot that cannot be restored)."""
        for path in (self.meta_file, self.backends_file):
            path.unlink(missing_ok=True)


def start_key(project: Project, stage: str, region: str) -> str:
    """A hash of every input of the provisioned and seeded state (see the module docstring)."""
    digest = hashlib.sha256()
    versions = (FORMAT, sys.version, metadata.version("moto"), metadata.version("chalice-devstack"))
    digest.update(repr((versions, stage, region)).encode())
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        stat = path.stat()
        digest.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    inputs = [project.resources_file, project.chalice_config_file, project.root / "pyproject.toml"]
    for path in [*inputs, *sorted(python_files(project.root))]:
        digest.update(str(path.relative_to(project.root) if path.is_relative_to(project.root) else path).encode())
        with contextlib.suppress(OSError):  # a missing optional file hashes as its name alone
            digest.update(path.read_bytes())
    return digest.hexdigest()[:24]


def python_files(root: Path) -> Iterator[Path]:
    """The project's own .py files: not in hidden folders, virtualenvs, caches or node_modules."""
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [
            name
            for name in subfolders
            if not name.startswith(".")
            and name not in SKIPPED_FOLDERS
            and not (Path(folder, name, "pyvenv.cfg")).exists()
        ]
        yield from (Path(folder, name) for name in files if name.endswith(".py"))


def prune(folder: Path, keep: int = KEEP) -> None:
    """Delete all but the `keep` snapshots in folder written or used last (a start touches the one it restores)."""
    metas = sorted(folder.glob("*.json"), key=lambda path: path.stat().st_mtime, reverse=True)
    for meta in metas[keep:]:
        meta.unlink(missing_ok=True)
        meta.with_suffix(".backends.pickle").unlink(missing_ok=True)


# ---------------------------------------------------------------------- moto's backends (endpoint side)


# Restored on first need, not before ready: the backends of services no poller calls and no polled service's
# backend reaches into. Importing Step Functions' interpreter is about half of a restore, Cognito's and IAM's
# models a tenth more; they share no object with another service's (a state machine names its tasks by ARN).
DEFERRED_MODULES = ("moto.stepfunctions.", "moto.cognitoidp.", "moto.iam.")


def save_backends(path: Path) -> int:
    """Pickle every moto backend in use to path, the deferred ones apart; return the file's size.

    Each part is one pickle, so objects shared between services (a table and its stream) stay shared.
    """
    from moto.core.base_backend import BackendDict

    state = [
        (*_named(backends), account, region, backend)
        for backends in list(BackendDict._instances)  # type: ignore[misc]  # moto lists the backends in use
        for account, region, backend in backends.iter_backends()
    ]
    deferred = [entry for entry in state if entry[0].startswith(DEFERRED_MODULES)]
    now = [entry for entry in state if entry not in deferred]
    data = pickle.dumps({"now": _pickled(now), "deferred": _pickled(deferred)}, protocol=pickle.HIGHEST_PROTOCOL)
    write_atomically(path, data)
    return len(data)


def restore_backends(path: Path, then: Callable[[], None] = lambda: None) -> "DeferredBackends":
    """Put the backends pickled in path back into moto, but the deferred ones: those the result restores
    (and calls `then`, before any request reaches them)."""
    parts = pickle.loads(path.read_bytes())  # noqa: S301 - devstack's own file, in the user's cache folder
    _put_back(parts["now"])
    return DeferredBackends(parts["deferred"], then)


class DeferredBackends:
    """The backends a restore left for later; `restore()` puts them back (once, whoever asks first)."""

    def __init__(self, data: bytes, then: Callable[[], None] = lambda: None) -> None:
        self._data = data
        self._then = then  # what the deferred services need before their first request (moto_fixes)
        self._lock = threading.Lock()

    def restore(self) -> None:
        """Put the deferred backends back into moto, if not done yet."""
        if not self._data:  # done: most requests after the first few
            return
        with self._lock:
            if self._data:
                _put_back(self._data)
                self._then()
                self._data = b""


def _pickled(state: list[tuple[str, str, str, str, Any]]) -> bytes:
    """One pickle of backends, with the reducers moto's objects need."""
    buffer = io.BytesIO()
    BackendPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(state)
    return buffer.getvalue()


def _put_back(data: bytes) -> None:
    """Unpickle backends and set each in its BackendDict (replacing any of the same account and region)."""
    for module, name, account, region, backend in pickle.loads(data):  # noqa: S301 - as restore_backends
        getattr(importlib.import_module(module), name)[account][region] = backend


def _named(backends: Any) -> tuple[str, str]:
    """The module and global name of a BackendDict (two can share a service name: Step Functions has two)."""
    module = sys.modules[backends.backend.__module__]
    for name, value in vars(module).items():
        if value is backends:
            return module.__name__, name
    raise LookupError(f"moto's {backends.service_name} backends are not a global of {module.__name__}")


class BackendPickler(pickle.Pickler):
    """Pickles what moto's backends hold that pickle cannot: locks (restored new) and RSA keys (as PEM)."""

    LOCKS: ClassVar[dict[type, Any]] = {
        type(threading.Lock()): threading.Lock,
        type(threading.RLock()): threading.RLock,
    }

    def __init__(self, file: io.BytesIO, protocol: int) -> None:
        super().__init__(file, protocol)
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        self.serialization, self.rsa = serialization, rsa

    def reducer_override(self, obj: Any) -> Any:
        """A reducer for locks and RSA keys; NotImplemented (pickle's own way) for everything else."""
        if type(obj) in self.LOCKS:
            return self.LOCKS[type(obj)], ()
        encoding = self.serialization.Encoding.PEM
        if isinstance(obj, self.rsa.RSAPrivateKey):
            plain = self.serialization.NoEncryption()
            pem = obj.private_bytes(encoding, self.serialization.PrivateFormat.PKCS8, plain)
            return _private_key, (pem,)
        if isinstance(obj, self.rsa.RSAPublicKey):
            pem = obj.public_bytes(encoding, self.serialization.PublicFormat.SubjectPublicKeyInfo)
            return _public_key, (pem,)
        return NotImplemented


def _private_key(pem: bytes) -> Any:
    """An RSA private key from PEM (cryptography's loader is a builtin pickle cannot name)."""
    from cryptography.hazmat.primitives import serialization

    # The key was valid when moto made it and is read back from devstack's own file: checking it
    # again (a primality test, 45 ms a key) would be a tenth of a restored start.
    return serialization.load_pem_private_key(pem, None, unsafe_skip_rsa_key_validation=True)


def _public_key(pem: bytes) -> Any:
    """An RSA public key from PEM."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_public_key(pem)
