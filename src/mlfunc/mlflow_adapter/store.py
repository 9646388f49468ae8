"""Where the MLflow tracking store and model registry live.

Without ``MLFLOW_TRACKING_URI``, mlfunc uses an embedded store: a SQLite file
and an artifact folder under ``MLFUNC_HOME`` (default ``~/.mlfunc``). Paths
are absolute, so a version loads by URI from any working directory. On
Databricks compute the default is the workspace (tracking URI ``databricks``).
"""

from __future__ import annotations

import logging
import os
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.utils.databricks_utils import is_in_databricks_runtime

from mlfunc.errors import RegistryError
from mlfunc.settings import mlfunc_home

logger = logging.getLogger(__name__)

DEFAULT_EXPERIMENT = "mlfunc"


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
    # processes, so after use_store() the variable may name the embedded store.
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured and configured != embedded.tracking_uri:
        return Store(tracking_uri=configured, embedded=False)
    if not configured and is_in_databricks_runtime():
        # A SQLite file on a Databricks driver would vanish with the cluster,
        # and the workspace registry or Unity Catalog would never see the model.
        return Store(tracking_uri="databricks", embedded=False)
    return embedded


def use_store() -> Store:
    """Point MLflow at the resolved store, creating the embedded folder if needed."""
    store = resolve_store()
    if store.embedded and store.artifact_root is not None:
        store.artifact_root.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(store.tracking_uri)
    return store


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
