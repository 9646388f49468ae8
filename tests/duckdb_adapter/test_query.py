"""Running models as DuckDB functions over CSV and Parquet files."""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from mlfunc.core import HYBRID
from mlfunc.duckdb_adapter.query import create_persistent_macro, register_duckdb_function, run_duckdb_sql
from mlfunc.errors import DuckDBError, InputDataError
from mlfunc.mlflow_adapter.deploy import Deployment
from tests.conftest import HYBRID_PARAMETERS

WINE_VALUES = [7.4, 7.8, 11.2, 6.9, 7.4]


def test_compiled_macro_over_semicolon_csv(
    deployed: Deployment, wine_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mlfunc")
    result = run_duckdb_sql(
        'SELECT "fixed acidity" AS x, f("fixed acidity") AS y FROM wine',
        models={"f": "models:/shared_model@champion"},
        tables={"wine": str(wine_csv)},
    )
    assert result.frame["y"].tolist() == HYBRID(WINE_VALUES, **HYBRID_PARAMETERS).tolist()
    assert "SQL function f runs models:/shared_model@champion as a compiled SQL expression" in caplog.text


def test_python_path_over_parquet_gives_null_for_null(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "values.parquet"
    pd.DataFrame({"x": [1.0, None, 7.0]}).to_parquet(source)
    result = run_duckdb_sql(
        "SELECT f(x) AS y FROM t",
        models={"f": "models:/shared_model@champion"},
        tables={"t": str(source)},
        python_udf=True,
    )
    assert result.frame["y"].tolist()[0] == 2.0
    assert pd.isna(result.frame["y"].tolist()[1])
    assert result.frame["y"].tolist()[2] == 4.0


def test_explained_version_returns_a_struct(explained_discount: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "orders.csv"
    source.write_text("quantity,tier\n150,gold\n50,silver\n1,gold\n")
    result = run_duckdb_sql(
        "SELECT d.rate AS rate, d.explanation AS why FROM (SELECT f(quantity, tier) AS d FROM orders)",
        models={"f": "models:/explained_discount@champion"},
        tables={"orders": str(source)},
    )
    assert result.frame["rate"].tolist() == [0.2, 0.1, 0.0]
    assert result.frame["why"].tolist() == ["rule 0", "rule 1", "default"]


def test_original_pickled_model_runs_through_mlflow(original_model: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mlfunc")
    connection = duckdb.connect()
    registered = register_duckdb_function(connection, "f", original_model)
    assert registered.path == "mlflow"
    assert "not logged by mlfunc from source code" in registered.reason
    assert connection.sql("SELECT f(x) FROM (VALUES (1.0), (7.0)) AS t(x)").fetchall() == [(2.0,), (4.0,)]


def test_bad_query_is_one_error_and_writes_nothing(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    with pytest.raises(DuckDBError, match='running the SQL query failed: Binder Error: .*"nope"'):
        run_duckdb_sql("SELECT nope FROM wine", models={}, tables={"wine": str(wine_csv)}, output=output)
    assert not output.exists()


def test_writes_parquet_output(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scored.parquet"
    result = run_duckdb_sql(
        'SELECT f("fixed acidity") AS y FROM wine',
        models={"f": "models:/shared_model/Production"},
        tables={"wine": str(wine_csv)},
        output=output,
    )
    assert result.rows == 5
    assert pd.read_parquet(output)["y"].tolist() == HYBRID(WINE_VALUES, **HYBRID_PARAMETERS).tolist()


def test_persistent_macro_in_a_database_file(deployed: Deployment, tmp_path: Path) -> None:
    from mlfunc.mlflow_adapter.definition import compile_model, read_definition

    database = tmp_path / "rules.duckdb"
    definition = read_definition("models:/shared_model@champion")
    create_persistent_macro(database, compile_model(definition, "duckdb", function_name="f", temporary=False))
    with duckdb.connect(str(database)) as connection:
        assert connection.sql("SELECT f(7)").fetchall() == [(4.0,)]
        comments = connection.sql("SELECT comment FROM duckdb_functions() WHERE function_name = 'f'").fetchall()
    assert f"version {deployed.version} of 'shared_model'" in comments[0][0]


def test_persistent_macro_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="folder .* does not exist"):
        create_persistent_macro(tmp_path / "missing" / "rules.duckdb", "SELECT 1")


def test_one_name_moves_between_paths(deployed: Deployment) -> None:
    connection = duckdb.connect()
    for python_udf in (True, False, True, True, False):
        registered = register_duckdb_function(connection, "f", "models:/shared_model@champion", python_udf=python_udf)
        assert registered.path == ("python" if python_udf else "compiled")
        assert connection.sql("SELECT f(7.0)").fetchall() == [(4.0,)]
