"""The shipped Databricks notebooks, run cell by cell on local Spark and the session's SQLite store.

The deploy notebook runs first and the run notebook loads what it promoted,
once with the workspace registry (stages) and once under the Unity Catalog
rules (aliases, three-part names), the switch being the ``registry`` widget.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import mlfunc
from mlfunc.core import HYBRID
from mlfunc.errors import RegistryError
from mlfunc.mlflow_adapter.registry import list_versions, resolve_version
from tests.notebooks.runner import NotebookCellError, NotebookRun, run_notebook

pytestmark = pytest.mark.slow

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def run(name: str, spark: Any, widgets: dict[str, str] | None = None) -> NotebookRun:
    return run_notebook(NOTEBOOKS / name, spark=spark, widgets=widgets, version=mlfunc.__version__)


def assert_query_matches(run_result: NotebookRun, parameters: dict[str, float]) -> None:
    assert len(run_result.sql_results) == 1
    frame = run_result.sql_results[0]
    assert list(frame.columns) == ["color_intensity", "prediction"]
    assert len(frame) == 178
    assert frame["color_intensity"].is_monotonic_increasing
    expected = HYBRID(frame["color_intensity"].to_numpy(), **parameters)
    assert frame["prediction"].tolist() == expected.tolist()


def test_notebooks_workspace_registry(spark, restore_registry_setting: None) -> None:  # type: ignore[no-untyped-def]
    deployed = run("deploy.py", spark)

    assert deployed.exit_value == "models:/custom_model/Production"
    deployment = deployed.namespace["deployment"]
    serving = resolve_version("models:/custom_model/Production")
    assert serving is not None
    assert serving.version == deployment.version
    assert "champion" in serving.aliases
    assert serving.tags["mlfunc.parameters"] == json.dumps({"gradient": 1.0, "x0": 5.0, "y0": 2.0})

    versions_table = deployed.displayed[-1]
    assert deployment.version in versions_table["version"].tolist()

    ran = run("run.py", spark)
    assert ran.namespace["version"].version == deployment.version
    assert_query_matches(ran, {"x0": 5.0, "y0": 2.0, "gradient": 1.0})
    pandas_sample = ran.displayed[0]
    expected = HYBRID(pandas_sample["color_intensity"], x0=5, y0=2, gradient=1)
    assert pandas_sample["prediction"].tolist() == expected.tolist()


def test_notebooks_unity_catalog(spark, tmp_path: Path, restore_registry_setting: None) -> None:  # type: ignore[no-untyped-def]
    parameters = {"x0": 4.0, "y0": 1.0, "gradient": 2.0}
    parameters_file = tmp_path / "hybrid.json"
    parameters_file.write_text(json.dumps({"function": "hybrid", **parameters}))

    deployed = run("deploy.py", spark, {"registry": "unity-catalog", "parameters_file": str(parameters_file)})

    assert deployed.exit_value == "models:/main.default.custom_model@champion"
    assert deployed.namespace["registry"].emulated
    versions = list_versions("main.default.custom_model")
    assert {version.stage for version in versions} == {"None"}
    assert "champion" in versions[-1].aliases
    assert versions[-1].version == deployed.namespace["deployment"].version

    ran = run("run.py", spark, {"registry": "unity-catalog"})
    assert ran.namespace["model_uri"] == "models:/main.default.custom_model@champion"
    assert_query_matches(ran, parameters)


def test_deploy_notebook_empty_catalog_fails(restore_registry_setting: None) -> None:
    # The failing cell comes before any Spark or MLflow work, so no session is needed.
    with pytest.raises(NotebookCellError, match=r"deploy\.py: cell \d+ \(python, line \d+\) failed") as caught:
        run("deploy.py", None, {"registry": "unity-catalog", "catalog": ""})
    assert isinstance(caught.value.__cause__, RegistryError)
    assert "invalid Unity Catalog model name '.default.custom_model'" in str(caught.value)
