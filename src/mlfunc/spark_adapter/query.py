"""Running one SQL query over files with models registered as SQL functions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mlfunc.spark_adapter.session import get_spark
from mlfunc.spark_adapter.sql import register_sql_function, register_table, run_query, spark_errors
from mlfunc.tables import QueryResult, check_query_files, write_arrow_table


def run_sql(
    query: str,
    *,
    models: Mapping[str, str],
    tables: Mapping[str, str],
    sep: str | None = None,
    output: str | Path | None = None,
    python_udf: bool = False,
) -> QueryResult:
    """Register ``models`` (SQL name to model URI) and ``tables`` (name to file), run ``query``.

    Each model runs on the fastest path it allows (see
    :func:`~mlfunc.spark_adapter.sql.register_sql_function`); ``python_udf``
    keeps every model on the Python path.

    The result is collected to the driver as an Arrow table, so it must fit
    in memory. With ``output`` it is also written as CSV or Parquet,
    atomically.
    """
    check_query_files(tables, output)

    spark = get_spark()
    for function_name, model_uri in models.items():
        register_sql_function(spark, function_name, model_uri, python_udf=python_udf)
    for table_name, path in tables.items():
        register_table(spark, table_name, path, sep=sep)

    frame = run_query(spark, query)
    with spark_errors("running the SQL query"):
        result = QueryResult(frame.toArrow())

    if output is not None:
        write_arrow_table(result.table, output)
    return result
