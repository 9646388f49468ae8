"""Location of the MLflow tracking store and model registry.

Without ``MLFLOW_TRACKING_URI``, mlfunc uses an embedded store: a SQLite file
and an artifact folder under ``MLFUNC_HOME`` (default ``~/.mlfunc``). Paths
are absolute, so a version loads by URI from any working directory. On
Databricks compute the default is the workspace (tracking URI ``databricks``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import random
import sqlite3
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.utils.databricks_utils import is_in_databricks_runtime

from mlfunc.errors import RegistryError
from mlfunc.settings import mlfunc_home

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "mlfunc"

T = TypeVar("T")

# The embedded store's URI as last passed to mlflow.set_tracking_uri, which
# copies it into the MLFLOW_TRACKING_URI variable.
_exported_uri: str | None = None

# Retries of a write that found the SQLite database locked by another
# process: about 13 s of backoff in all, on top of SQLite's own busy timeout.
LOCKED_RETRY_ATTEMPTS = 8
LOCKED_RETRY_FIRST_DELAY_SECONDS = 0.1


@dataclass(frozen=True)
class Store:
    """The tracking URI in use and, for the embedded store, its files."""

    tracking_uri: str
    embedded: bool
    database: Path | None = None
    artifact_root: Path | None = None

    @property
    def display_uri(self) -> str:
        """The tracking URI with any password removed, safe to print or log."""
        return redact_uri(self.tracking_uri)

    def ui_command(self) -> str:
        """Return the shell command that opens the MLflow UI on this store."""
        if self.embedded:
            # The mlflow script beside this interpreter, which a virtualenv may not have on PATH.
            script = Path(sys.executable).parent / "mlflow"
            program = str(script) if script.exists() else "mlflow"
            return f"{program} ui --backend-store-uri '{self.tracking_uri}' --host 127.0.0.1 --port 5000"
        return f"open {self.display_uri} in a browser"


def resolve_store() -> Store:
    """Return the store from ``MLFLOW_TRACKING_URI``, else the workspace on Databricks, else the embedded one."""
    home = mlfunc_home()
    database = home / "mlflow.db"
    embedded = Store(
        tracking_uri=f"sqlite:///{database}",
        embedded=True,
        database=database,
        artifact_root=home / "artifacts",
    )

    # mlflow.set_tracking_uri also exports MLFLOW_TRACKING_URI for child
    # processes, so a value equal to what use_store() set is not the user's.
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured and configured not in (embedded.tracking_uri, _exported_uri):
        return Store(tracking_uri=configured, embedded=False)
    if not configured and is_in_databricks_runtime():
        # A SQLite file on a Databricks driver would vanish with the cluster,
        # and the workspace registry or Unity Catalog would never see the model.
        return Store(tracking_uri="databricks", embedded=False)
    return embedded


def use_store() -> Store:
    """Point MLflow at the resolved store, creating the embedded database if needed."""
    global _exported_uri
    store = resolve_store()
    mlflow.set_tracking_uri(store.tracking_uri)
    _exported_uri = store.tracking_uri if store.embedded else None
    logging.getLogger("mlflow.store.db.utils").addFilter(_DROP_LOCKED_ERRORS)
    if store.embedded and store.artifact_root is not None and store.database is not None:
        store.artifact_root.mkdir(parents=True, exist_ok=True)
        _initialise_embedded(store.database)
    return store


def _initialise_embedded(database: Path) -> None:
    # MLflow creates the tables of a new SQLite store when a client first
    # touches it. Several processes doing that at once race on the schema
    # migration, so the first touch is serialised with a file lock.
    with _file_lock(database.with_suffix(".lock")):
        mlflow.MlflowClient().search_experiments(max_results=1)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_database_locked(exc: BaseException) -> bool:
    """Return whether ``exc`` comes from a SQLite database locked by another writer."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, sqlite3.OperationalError):
            return getattr(cause, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        cause = cause.__cause__ or cause.__context__
    return False


def retry_when_locked(operation: Callable[[], T], *, description: str) -> T:
    """Run ``operation``, retrying with exponential backoff while the SQLite store is locked."""
    delay = LOCKED_RETRY_FIRST_DELAY_SECONDS
    for attempt in range(1, LOCKED_RETRY_ATTEMPTS + 1):
        try:
            return operation()
        except MlflowException as exc:
            if attempt == LOCKED_RETRY_ATTEMPTS or not is_database_locked(exc):
                raise
            logger.debug("Database locked while %s, retry %d in %.2f s", description, attempt, delay)
            time.sleep(delay * (1 + random.random()))
            delay *= 2
    raise AssertionError("unreachable: the last attempt returns or raises")


class _DropLockedErrors(logging.Filter):
    # MLflow logs every SQLite error with a full traceback before raising it.
    # A locked database is retried here, so that log line would only alarm.
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and record.exc_info[1] and is_database_locked(record.exc_info[1]))


_DROP_LOCKED_ERRORS = _DropLockedErrors()


def ensure_experiment(store: Store, name: str = DEFAULT_EXPERIMENT) -> str:
    """Return the id of experiment ``name``, creating it if it does not exist.

    On the embedded store the experiment's artifacts go under the store's
    artifact folder, not under the working directory, which is MLflow's
    default for a client-side SQLite store.
    """
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)

    location = _artifact_folder(store.artifact_root, name).as_uri() if store.artifact_root is not None else None
    try:
        return str(client.create_experiment(name, artifact_location=location))
    except MlflowException as exc:
        # Another process may have created it between the lookup and the create.
        experiment = client.get_experiment_by_name(name)
        if experiment is None:
            raise RegistryError(f"cannot create experiment {name!r} on {store.display_uri}: {exc.message}") from exc
        return str(experiment.experiment_id)


def _artifact_folder(root: Path, experiment: str) -> Path:
    # Databricks experiment names are workspace paths such as /Shared/mlfunc.
    # Joined as they are, the leading slash would put the artifacts at the
    # root of the file system instead of under the store.
    relative = Path(experiment.strip("/"))
    if not relative.parts or ".." in relative.parts:
        raise RegistryError(f"invalid experiment name {experiment!r}: use a name such as mlfunc or /Shared/mlfunc")
    return root / relative


def redact_uri(uri: str) -> str:
    """Return ``uri`` with the password of any ``user:password@`` part replaced by ``***``."""
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
