"""Workspace registry versus Unity Catalog: detection, the switch, and the rules on the embedded store.

Nothing here contacts Databricks. Unity Catalog URIs are only parsed, and the
Unity Catalog rules are exercised on the SQLite store through
MLFUNC_REGISTRY=unity-catalog, which accepts three-part names as plain names.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import mlflow
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException
from mlflow.protos.databricks_pb2 import ALREADY_EXISTS

from mlfunc.core import HYBRID
from mlfunc.errors import ModelNotFoundError, RegistryError
from mlfunc.mlflow_adapter.deploy import Deployment, deploy
from mlfunc.mlflow_adapter.loading import load_model, prediction_values
from mlfunc.mlflow_adapter.promotion import promote
from mlfunc.mlflow_adapter.registry import ModelReference, list_versions, parse_model_uri, resolve_version
from mlfunc.mlflow_adapter.registry_kind import (
    REGISTRY_ENV,
    ModelRegistry,
    current_registry,
    parse_registry_kind,
    registry_kind_for_uri,
    registry_uri_for,
    use_registry,
)
from tests.conftest import HYBRID_PARAMETERS

UC_MODEL = "main.default.uc_model"
UNITY_CATALOG = ModelRegistry("unity-catalog", "databricks-uc")
WORKSPACE = ModelRegistry("workspace", "databricks")


@pytest.mark.parametrize(
    ("uri", "kind"),
    [
        ("databricks-uc", "unity-catalog"),
        ("databricks-uc://prod", "unity-catalog"),
        ("uc:http://127.0.0.1:8080", "unity-catalog"),
        ("databricks", "workspace"),
        ("databricks://prod", "workspace"),
        ("sqlite:////tmp/mlflow.db", "workspace"),
        ("http://127.0.0.1:5000", "workspace"),
    ],
)
def test_registry_kind_for_uri(uri: str, kind: str) -> None:
    assert registry_kind_for_uri(uri) == kind


@pytest.mark.parametrize(
    ("kind", "tracking_uri", "expected"),
    [
        ("unity-catalog", "databricks", "databricks-uc"),
        ("workspace", "databricks", "databricks"),
        ("unity-catalog", "databricks://prod", "databricks-uc://prod"),
        ("workspace", "databricks://prod", "databricks://prod"),
        ("unity-catalog", "sqlite:////tmp/mlflow.db", None),
        ("workspace", "http://127.0.0.1:5000", None),
    ],
)
def test_registry_uri_for_tracking_uri(kind: str, tracking_uri: str, expected: str | None) -> None:
    assert registry_uri_for(kind, tracking_uri) == expected  # type: ignore[arg-type]


def test_parse_registry_kind_accepts_case_and_spaces() -> None:
    assert parse_registry_kind(" Unity-Catalog ") == "unity-catalog"


def test_parse_registry_kind_invalid() -> None:
    with pytest.raises(RegistryError, match=r"invalid MLFUNC_REGISTRY 'uc': expected one of workspace, unity-catalog"):
        parse_registry_kind("uc")


def test_stage_on_unity_catalog_message() -> None:
    with pytest.raises(RegistryError) as caught:
        UNITY_CATALOG.check_stage("Production", name="main.default.custom_model")
    message = str(caught.value)
    assert "stages are not supported by the Unity Catalog registry (databricks-uc)" in message
    assert "--alias champion" in message
    assert "models:/main.default.custom_model@champion" in message


def test_stage_on_workspace_registry_allowed() -> None:
    WORKSPACE.check_stage("Production", name="custom_model")
    UNITY_CATALOG.check_stage(None, name="main.default.custom_model")


@pytest.mark.parametrize("name", ["custom_model", "default.custom_model", "main..custom_model", "a.b.c.d", "main. x.m"])
def test_unity_catalog_rejects_name(name: str) -> None:
    with pytest.raises(RegistryError, match=rf"invalid Unity Catalog model name '{name}': expected three parts"):
        UNITY_CATALOG.check_model_name(name)


def test_model_name_by_registry_kind() -> None:
    assert WORKSPACE.model_name("custom_model", catalog="main", schema="default") == "custom_model"
    assert UNITY_CATALOG.model_name("custom_model", catalog="main", schema="default") == "main.default.custom_model"


def test_model_name_empty_catalog_rejected() -> None:
    with pytest.raises(RegistryError, match="invalid Unity Catalog model name '.default.custom_model'"):
        UNITY_CATALOG.model_name("custom_model", catalog="", schema="default")


def test_serving_uri_by_registry_kind() -> None:
    assert WORKSPACE.serving_uri("custom_model", alias="champion") == "models:/custom_model/Production"
    assert (
        UNITY_CATALOG.serving_uri("main.default.custom_model", alias="champion")
        == "models:/main.default.custom_model@champion"
    )


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        (
            "models:/main.default.custom_model@champion",
            ModelReference("models:/main.default.custom_model@champion", "main.default.custom_model", alias="champion"),
        ),
        (
            "models:/main.default.custom_model/3",
            ModelReference("models:/main.default.custom_model/3", "main.default.custom_model", version="3"),
        ),
    ],
)
def test_parse_model_uri_three_part_names(uri: str, expected: ModelReference) -> None:
    assert parse_model_uri(uri) == expected


def test_current_registry_embedded_workspace(deployed: Deployment) -> None:
    registry = current_registry()
    assert registry.kind == "workspace"
    assert not registry.emulated
    assert registry.uri == mlflow.get_tracking_uri()


def test_current_registry_detects_unity_catalog_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only the URI is read and no client is created, so nothing contacts Databricks.
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "databricks-uc")
    monkeypatch.delenv(REGISTRY_ENV, raising=False)
    assert current_registry() == ModelRegistry("unity-catalog", "databricks-uc")


def test_workspace_setting_conflicts_with_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "databricks-uc")
    monkeypatch.setenv(REGISTRY_ENV, "workspace")
    with pytest.raises(RegistryError, match=r"MLFUNC_REGISTRY=workspace conflicts with .*'databricks-uc'"):
        current_registry()


def test_use_registry_emulates_unity_catalog_locally(restore_registry_setting: None) -> None:
    registry_uri = mlflow.get_registry_uri()
    registry = use_registry("unity-catalog")

    assert registry.kind == "unity-catalog"
    assert registry.emulated
    assert "MLFUNC_REGISTRY=unity-catalog" in registry.describe()
    assert mlflow.get_registry_uri() == registry_uri


def test_use_registry_invalid_kind(restore_registry_setting: None) -> None:
    with pytest.raises(RegistryError, match="invalid registry kind 'catalog'"):
        use_registry("catalog")


@pytest.fixture(scope="module")
def uc_deployment(mlfunc_home: object) -> Iterator[Deployment]:
    """Deploy hybrid once under the Unity Catalog rules as 'main.default.uc_model' with alias champion."""
    saved = os.environ.get(REGISTRY_ENV)
    use_registry("unity-catalog")
    try:
        yield deploy(HYBRID, HYBRID_PARAMETERS, name=UC_MODEL, alias="champion")
    finally:
        if saved is None:
            os.environ.pop(REGISTRY_ENV, None)
        else:
            os.environ[REGISTRY_ENV] = saved


@pytest.fixture
def unity_catalog(restore_registry_setting: None) -> ModelRegistry:
    return use_registry("unity-catalog")


def test_deploy_unity_catalog_alias_only(uc_deployment: Deployment, unity_catalog: ModelRegistry) -> None:
    versions = list_versions(UC_MODEL)
    assert [version.stage for version in versions] == ["None"] * len(versions)
    assert "champion" in versions[-1].aliases

    model, version = load_model(unity_catalog.serving_uri(UC_MODEL, alias="champion"))
    assert version is not None
    assert version.version == uc_deployment.version
    predicted = prediction_values(model.predict(pd.DataFrame({"x": [1.0, 5.0, 7.5]})))
    assert predicted.tolist() == HYBRID([1.0, 5.0, 7.5], **HYBRID_PARAMETERS).tolist()


def test_deploy_stage_writes_nothing(unity_catalog: ModelRegistry) -> None:
    runs_before = len(mlflow.search_runs(search_all_experiments=True))
    with pytest.raises(RegistryError, match="stages are not supported by the Unity Catalog registry"):
        deploy(HYBRID, HYBRID_PARAMETERS, name="main.default.staged_model", stage="Production")

    with pytest.raises(ModelNotFoundError):
        list_versions("main.default.staged_model")
    assert len(mlflow.search_runs(search_all_experiments=True)) == runs_before


def test_deploy_short_name_on_unity_catalog(unity_catalog: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="invalid Unity Catalog model name 'short_model'"):
        deploy(HYBRID, HYBRID_PARAMETERS, name="short_model", alias="champion")


def test_promote_stage_on_unity_catalog(uc_deployment: Deployment, unity_catalog: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match=rf"models:/{UC_MODEL}@champion"):
        promote(UC_MODEL, uc_deployment.version, stage="Production")


def test_resolve_stage_uri_on_unity_catalog(uc_deployment: Deployment, unity_catalog: ModelRegistry) -> None:
    with pytest.raises(RegistryError, match="stages are not supported"):
        resolve_version(f"models:/{UC_MODEL}/Production")


def test_resolve_missing_version_suggests_alias(uc_deployment: Deployment, unity_catalog: ModelRegistry) -> None:
    with pytest.raises(ModelNotFoundError, match=rf"mlfunc promote {UC_MODEL} VERSION --alias champion$"):
        resolve_version(f"models:/{UC_MODEL}/999")


def test_deploy_again_after_already_exists(
    uc_deployment: Deployment, unity_catalog: ModelRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Unity Catalog reports ALREADY_EXISTS for an existing model, where SQLite
    # reports RESOURCE_ALREADY_EXISTS. Databricks is out of reach, so this one
    # fault is injected.
    def reject_existing(self: mlflow.MlflowClient, name: str, *args: object, **kwargs: object) -> None:
        raise MlflowException(f"Registered model {name} already exists", error_code=ALREADY_EXISTS)

    monkeypatch.setattr(mlflow.MlflowClient, "create_registered_model", reject_existing)
    again = deploy(HYBRID, HYBRID_PARAMETERS, name=UC_MODEL, alias="champion", force=True)
    assert int(again.version) > int(uc_deployment.version)
