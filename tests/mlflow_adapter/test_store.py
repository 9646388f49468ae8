"""Choosing the tracking store, and where the embedded store puts an experiment's artifacts."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

from mlfunc.errors import RegistryError
from mlfunc.mlflow_adapter.store import ensure_experiment, resolve_store, use_store


def test_resolve_store_databricks_workspace(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the environment is read, so nothing contacts Databricks.
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store = resolve_store()
    assert store.tracking_uri == "databricks"
    assert not store.embedded


def test_resolve_store_databricks_configured_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABRICKS_RUNTIME_VERSION", "17.3")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert resolve_store().tracking_uri == "http://127.0.0.1:5000"


def test_resolve_store_embedded_elsewhere(monkeypatch: pytest.MonkeyPatch, mlfunc_home: Path) -> None:
    monkeypatch.delenv("DATABRICKS_RUNTIME_VERSION", raising=False)
    monkeypatch.delenv("DATABRICKS_ENV_VERSION", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    store = resolve_store()
    assert store.embedded
    assert store.database == mlfunc_home / "mlflow.db"


def test_workspace_path_experiment_artifacts(mlfunc_home: Path) -> None:
    store = use_store()
    assert store.artifact_root is not None
    experiment_id = ensure_experiment(store, "/Shared/mlfunc-store-test")

    location = mlflow.MlflowClient().get_experiment(experiment_id).artifact_location
    assert location == (store.artifact_root / "Shared" / "mlfunc-store-test").as_uri()


@pytest.mark.parametrize("name", ["../outside", "/", "a/../../b"])
def test_experiment_name_outside_store_rejected(name: str) -> None:
    store = use_store()
    with pytest.raises(RegistryError, match=f"invalid experiment name '{name}'"):
        ensure_experiment(store, name)
