from __future__ import annotations

import subprocess
import sys

import pytest

from mlfunc.errors import ModelNotFoundError, RegistryError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.mlflow_adapter.promotion import promote
from mlfunc.mlflow_adapter.registry import ModelReference, parse_model_uri, resolve_version
from mlfunc.mlflow_adapter.store import redact_uri


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "models:/custom_model/Production",
            ModelReference("models:/custom_model/Production", "custom_model", stage="Production"),
        ),
        (
            "models:/custom_model/production",
            ModelReference("models:/custom_model/production", "custom_model", stage="Production"),
        ),
        ("models:/custom_model/3", ModelReference("models:/custom_model/3", "custom_model", version="3")),
        (
            "models:/custom_model@champion",
            ModelReference("models:/custom_model@champion", "custom_model", alias="champion"),
        ),
        ("models:/custom_model/latest", ModelReference("models:/custom_model/latest", "custom_model")),
    ],
)
def test_parse_model_uri_registry_forms(uri: str, expected: ModelReference) -> None:
    assert parse_model_uri(uri) == expected


@pytest.mark.parametrize("uri", ["runs:/abc/model", "/tmp/model", "models:/m-0123456789abcdef"])
def test_parse_model_uri_other_forms(uri: str) -> None:
    assert parse_model_uri(uri) is None


def test_resolve_missing_stage_lists_versions(deployed: Deployment) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        resolve_version("models:/shared_model/Staging")
    message = str(caught.value)
    assert "has no stage 'Staging'" in message
    assert f"{deployed.version} (Production, @champion)" in message
    assert "mlfunc promote shared_model VERSION --stage Staging" in message


def test_resolve_missing_alias_suggests_promote(deployed: Deployment) -> None:
    with pytest.raises(ModelNotFoundError, match=r"no alias 'challenger'.*--alias challenger"):
        resolve_version("models:/shared_model@challenger")


def test_resolve_missing_name_lists_models(deployed: Deployment) -> None:
    with pytest.raises(ModelNotFoundError, match=r"registered model 'no_such_model' not found.*shared_model"):
        resolve_version("models:/no_such_model/Production")


def test_promote_missing_version_lists_versions(deployed: Deployment) -> None:
    with pytest.raises(ModelNotFoundError, match=r"version '999' of registered model 'shared_model' not found"):
        promote("shared_model", "999", stage="Production")


def test_promote_invalid_stage(deployed: Deployment) -> None:
    with pytest.raises(RegistryError, match="invalid stage 'Prod'"):
        promote("shared_model", deployed.version, stage="Prod")


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://alice:s3cret@mlflow.example.com/", "https://alice:***@mlflow.example.com/"),
        ("postgresql://u:p@db:5432/mlflow", "postgresql://u:***@db:5432/mlflow"),
        ("sqlite:////tmp/mlflow.db", "sqlite:////tmp/mlflow.db"),
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ],
)
def test_redact_uri_hides_password(uri: str, expected: str) -> None:
    assert redact_uri(uri) == expected


@pytest.mark.slow
def test_registry_import_adds_nothing_to_mlflow() -> None:
    # Registry commands should cost no more start-up time than MLflow's own import.
    script = (
        "import sys\n"
        "import mlflow\n"
        "before = set(sys.modules)\n"
        "import mlfunc.mlflow_adapter.registry, mlfunc.mlflow_adapter.store\n"
        # sqlite3 (standard library, a few milliseconds) recognises a locked SQLite store.
        "added = {name.split('.')[0] for name in set(sys.modules) - before} - {'mlfunc', 'sqlite3', '_sqlite3'}\n"
        "print('added:' + ','.join(sorted(added)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "added:"
