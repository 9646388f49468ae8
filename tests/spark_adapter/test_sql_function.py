"""register_sql_function: one SQL name, on the fastest path the model allows."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest

from mlfunc.errors import InputDataError, SparkError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.spark_adapter.sql import create_persistent_function, register_sql_function, run_query, spark_errors

pytestmark = pytest.mark.slow


def _plan(spark, query: str) -> str:  # type: ignore[no-untyped-def]
    return str(spark.sql(query)._jdf.queryExecution().executedPlan().toString())


def test_compiled_function_is_inlined_into_the_plan(spark, deployed: Deployment, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="mlfunc")
    registered = register_sql_function(spark, "compiled_udf", "models:/shared_model@champion")
    assert registered.path == "compiled"
    assert registered.version is not None
    assert registered.version.version == deployed.version
    assert "compiled_udf runs models:/shared_model@champion as a compiled SQL expression" in caplog.text

    spark.range(3).selectExpr("CAST(id * 4 AS DOUBLE) AS x").createOrReplaceTempView("steps")
    plan = _plan(spark, "SELECT compiled_udf(x) FROM steps")
    assert "CASE WHEN" in plan
    assert "ArrowEvalPython" not in plan
    assert [row[0] for row in run_query(spark, "SELECT compiled_udf(x) FROM steps ORDER BY x").collect()] == [
        2.0,
        2.0,
        5.0,
    ]


def test_python_udf_switch_forces_the_python_path(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    registered = register_sql_function(spark, "python_udf", "models:/shared_model@champion", python_udf=True)
    assert (registered.path, registered.reason) == ("python", "--python-udf given")
    plan = _plan(spark, "SELECT python_udf(CAST(id AS DOUBLE)) FROM range(3)")
    assert "ArrowEvalPython" in plan
    rows = run_query(spark, "SELECT python_udf(x) FROM VALUES (1.0D), (NULL), (7.0D) AS t(x)").collect()
    assert [row[0] for row in rows] == [2.0, None, 4.0]


def test_decimal_and_integer_arguments(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    register_sql_function(spark, "typed_udf", "models:/shared_model@champion")
    spark.createDataFrame([(Decimal("7.25"), 9)], "d DECIMAL(10, 2), i BIGINT").createOrReplaceTempView("typed")
    assert run_query(spark, "SELECT typed_udf(d), typed_udf(i) FROM typed").collect()[0] == (4.25, 6.0)


def test_explained_version_runs_in_python(spark, explained_discount: Deployment) -> None:  # type: ignore[no-untyped-def]
    registered = register_sql_function(spark, "discount_udf", "models:/explained_discount@champion")
    assert registered.path == "python"
    assert "explanation column" in registered.reason
    rows = run_query(spark, "SELECT discount_udf(150.0D, 'gold') AS d").collect()
    assert rows[0]["d"].asDict() == {"rate": 0.2, "explanation": "rule 0"}


def test_original_pickled_model_falls_back_to_spark_udf(spark, original_model: str) -> None:  # type: ignore[no-untyped-def]
    registered = register_sql_function(spark, "original_udf", original_model)
    assert registered.path == "mlflow"
    assert [row[0] for row in run_query(spark, "SELECT original_udf(7.0D)").collect()] == [4.0]


def test_text_argument_to_compiled_function_is_spark_error(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    register_sql_function(spark, "strict_udf", "models:/shared_model@champion")
    with pytest.raises(SparkError, match="query failed: .*CAST_INVALID_INPUT.*'abc'"), spark_errors("query"):
        run_query(spark, "SELECT strict_udf('abc')").collect()


def test_invalid_function_name(spark) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputDataError, match="invalid SQL function name 'bad-name'"):
        register_sql_function(spark, "bad-name", "models:/shared_model@champion")


def test_persistent_function_keeps_its_comment(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    statement = create_persistent_function(spark, "default.kept_udf", "models:/shared_model@champion")
    assert statement.splitlines()[1] == "CREATE OR REPLACE FUNCTION `default`.`kept_udf`(`x` DOUBLE)"
    rows = run_query(spark, "DESCRIBE FUNCTION EXTENDED default.kept_udf").collect()
    description = "\n".join(row[0] for row in rows)
    assert f"Comment:       compiled by mlfunc 0.1.0 from version {deployed.version} of 'shared_model'" in description
    assert run_query(spark, "SELECT default.kept_udf(7.0D)").collect()[0][0] == 4.0
    run_query(spark, "DROP FUNCTION default.kept_udf")


def test_one_name_moves_between_paths(spark, deployed: Deployment) -> None:  # type: ignore[no-untyped-def]
    uri = "models:/shared_model@champion"
    for python_udf in (True, False, True, False):
        registered = register_sql_function(spark, "moving_udf", uri, python_udf=python_udf)
        assert registered.path == ("python" if python_udf else "compiled")
        assert run_query(spark, "SELECT moving_udf(7.0D)").collect()[0][0] == 4.0
