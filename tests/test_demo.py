"""The main job, end to end, on the shared store and Spark session."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mlfunc.cli import main
from mlfunc.core import HYBRID
from mlfunc.demo import DEMO_COLUMN, DEMO_PARAMETERS, load_wine_frame, run_demo
from mlfunc.mlflow_adapter.deploy import deploy
from mlfunc.mlflow_adapter.registry import list_versions

pytestmark = pytest.mark.slow


def test_demo_reuses_version_and_archives(spark, mlfunc_home: Path) -> None:  # type: ignore[no-untyped-def]
    first = run_demo(lambda line: None)
    other = deploy(HYBRID, {"x0": 0, "y0": 0, "gradient": 2}, name="custom_model", stage="Production")
    lines: list[str] = []
    second = run_demo(lines.append)

    # The demo's parameters are already in a version, so it is promoted back
    # and the other Production version is archived.
    assert second.version == first.version
    assert second.archived_version == other.version
    stages = {version.version: version.stage for version in list_versions("custom_model")}
    assert stages[first.version] == "Production"
    assert stages[str(other.version)] == "Archived"

    wine = load_wine_frame()
    assert len(second.spark_predictions) == len(wine) == 178
    expected = HYBRID(second.spark_predictions[DEMO_COLUMN].to_numpy(), **DEMO_PARAMETERS)
    assert second.spark_predictions["prediction"].tolist() == expected.tolist()
    assert (second.pandas_predictions[DEMO_COLUMN] < 5).any()
    assert (second.pandas_predictions[DEMO_COLUMN] >= 5).any()

    text = "\n".join(lines)
    assert f"version {first.version} already holds this code and these parameters, so it is reused" in text
    assert f"version {other.version} was in Production and is now Archived" in text
    assert "Spark SQL and pandas give the same prediction on all 178 rows" in text
    assert f"database:  {mlfunc_home / 'mlflow.db'}" in text
    assert "ui --backend-store-uri" in text


def test_demo_command_output(spark, mlfunc_home: Path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    assert "custom_model_udf(color_intensity) AS prediction FROM wine" in result.stdout
    assert "open the MLflow UI with:" in result.stdout
    assert result.stderr == ""
