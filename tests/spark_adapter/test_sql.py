"""The Spark SQL path on a real local Spark session."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlfunc.core import HYBRID
from mlfunc.errors import InputDataError, SparkError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.spark_adapter.query import run_sql
from mlfunc.spark_adapter.sql import register_model_function, register_table, run_query, spark_errors
from tests.conftest import HYBRID_PARAMETERS

pytestmark = pytest.mark.slow


def test_sql_function_matches_pandas(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    version = register_model_function(spark, "hybrid_udf", "models:/shared_model@champion")
    assert version is not None
    assert version.version == deployed.version

    values = [-3.0, 4.999, 5.0, 5.5, 100.0, None]
    spark.createDataFrame(pd.DataFrame({"x": values})).createOrReplaceTempView("numbers")
    rows = run_query(spark, "SELECT x, hybrid_udf(x) AS y FROM numbers ORDER BY x NULLS LAST").collect()
    results = [row["y"] for row in rows]
    assert results[:5] == [2.0, 2.0, 2.0, 2.5, 97.0]
    assert results[5] is None or results[5] != results[5]  # Spark shows the NaN of a null input as null or NaN


def test_register_table_semicolon_csv_with_spaces(spark, deployed: Deployment, wine_csv: Path) -> None:  # type: ignore[no-untyped-def]
    register_model_function(spark, "custom_model_udf", "models:/shared_model/Production")
    register_table(spark, "wine", wine_csv)
    result = run_query(
        spark, "SELECT `fixed acidity`, custom_model_udf(`fixed acidity`) AS prediction FROM wine"
    ).toPandas()
    expected = HYBRID([7.4, 7.8, 11.2, 6.9, 7.4], **HYBRID_PARAMETERS)
    assert result["prediction"].tolist() == expected.tolist()


def test_run_query_unknown_column_is_spark_error(spark) -> None:  # type: ignore[no-untyped-def]
    spark.createDataFrame(pd.DataFrame({"x": [1.0]})).createOrReplaceTempView("tiny")
    with pytest.raises(SparkError, match=r"SQL query failed: .*nope"):
        run_query(spark, "SELECT nope FROM tiny")


def test_udf_on_text_column_is_spark_error(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    register_model_function(spark, "text_udf", "models:/shared_model@champion")
    spark.createDataFrame(pd.DataFrame({"s": ["a", "b"]})).createOrReplaceTempView("texts")
    with pytest.raises(SparkError, match="failed"), spark_errors("query"):
        run_query(spark, "SELECT text_udf(s) FROM texts").collect()


def test_register_table_missing_file(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputDataError, match="not found"):
        register_table(spark, "missing", tmp_path / "missing.csv")


def test_run_sql_writes_output(spark, deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out.parquet"
    result = run_sql(
        "SELECT alcohol, f(alcohol) AS y FROM w ORDER BY alcohol NULLS LAST",
        models={"f": "models:/shared_model@champion"},
        tables={"w": str(wine_csv)},
        output=output,
    )
    assert result.rows == 5
    written = pd.read_parquet(output)
    assert written["y"].tolist()[:4] == HYBRID([4.5, 5.0, 9.4, 12.8], **HYBRID_PARAMETERS).tolist()


def test_summary_keeps_exception_message() -> None:
    from pyspark.errors import PythonException

    from mlfunc.spark_adapter.sql import _summarise

    text = (
        "An exception was thrown from the Python worker.\nTraceback (most recent call last):\n"
        '  File "x.py", line 1, in f\n'
        "mlflow.exceptions.MlflowException: Failed to enforce schema of data '   x\n0  gold\n9     y'\n"
        "with schema '['x': double (required)]'."
    )
    summary = _summarise(PythonException(text))
    assert summary.startswith("mlflow.exceptions.MlflowException: Failed to enforce schema of data")
    assert summary.endswith("with schema '['x': double (required)]'.")
    assert "\n" not in summary
