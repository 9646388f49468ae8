"""Running one SQL query over files with models registered as SQL functions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlfunc.errors import InputDataError
from mlfunc.spark_adapter.session import get_spark
from mlfunc.spark_adapter.sql import register_model_function, register_table, run_query, spark_errors
from mlfunc.tables import reject_output_over_input, write_table


@dataclass(frozen=True)
class QueryResult:
    """A query's result, collected to the driver."""

    frame: pd.DataFrame
    rows: int


def run_sql(
    query: str,
    *,
    models: Mapping[str, str],
    tables: Mapping[str, str],
    sep: str | None = None,
    output: str | Path | None = None,
) -> QueryResult:
    """Register ``models`` (SQL name to model URI) and ``tables`` (name to file), run ``query``.

    The result is collected to the driver, so it must fit in memory. With
    ``output`` it is also written as CSV or Parquet, atomically.
    """
    for path in tables.values():
        if not Path(path).is_file():
            raise InputDataError(f"table file '{path}' not found or not a regular file")
        if output is not None:
            reject_output_over_input(Path(path), Path(output))
    if output is not None and not Path(output).parent.is_dir():
        # Checked before Spark starts, so a typo costs no query.
        raise InputDataError(f"cannot write output file '{output}': folder '{Path(output).parent}' does not exist")

    spark = get_spark()
    for function_name, model_uri in models.items():
        register_model_function(spark, function_name, model_uri)
    for table_name, path in tables.items():
        register_table(spark, table_name, path, sep=sep)

    frame = run_query(spark, query)
    with spark_errors("running the SQL query"):
        result = frame.toPandas()

    if output is not None:
        write_table(result, output)
    return QueryResult(frame=result, rows=len(result))
