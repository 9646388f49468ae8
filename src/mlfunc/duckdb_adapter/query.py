"""Registering models as DuckDB functions, files as views, and running one query.

A version whose function compiles to SQL becomes a macro, which DuckDB
expands into the query like hand-written SQL. Otherwise the function runs
as a vectorised Python function on Arrow batches.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
from duckdb.func import FunctionNullHandling, PythonUDFType

from mlfunc.arrow_eval import evaluate_arrow, output_columns
from mlfunc.core import BusinessFunction
from mlfunc.core.function import Column
from mlfunc.core.sql import SqlWriter, quote_identifier, sql_type
from mlfunc.errors import CompileError, DuckDBError, InputDataError
from mlfunc.mlflow_adapter.definition import (
    SqlFunction,
    check_function_name,
    compiled_statement,
    read_definition,
    registered,
)
from mlfunc.mlflow_adapter.loading import input_column_name, load_model, prediction_values
from mlfunc.tables import QueryResult, check_query_files, detect_delimiter, is_parquet, write_arrow_table

logger = logging.getLogger(__name__)


@contextlib.contextmanager
def duckdb_errors(action: str) -> Iterator[None]:
    """Translate DuckDB errors raised while doing ``action`` into DuckDBError with DuckDB's message."""
    try:
        yield
    except duckdb.Error as exc:
        # After a blank line, DuckDB's message goes on with the query text and
        # a caret under the error. Its first paragraph names the error.
        summary = " ".join(str(exc).strip().split("\n\n")[0].split())
        raise DuckDBError(f"{action} failed: {summary}") from exc


def register_duckdb_function(
    connection: duckdb.DuckDBPyConnection, function_name: str, model_uri: str, *, python_udf: bool = False
) -> SqlFunction:
    """Register ``model_uri`` as the DuckDB function ``function_name``: a macro when it compiles.

    With ``python_udf``, or when the function has no SQL translation, it
    runs as a Python function on Arrow batches instead.
    """
    check_function_name(function_name)
    _forget_function(connection, function_name)
    try:
        definition = read_definition(model_uri)
    except CompileError as exc:
        return _register_pyfunc(connection, function_name, model_uri, reason=str(exc))

    statement, reason = compiled_statement(definition, "duckdb", function_name, python_udf=python_udf)
    if statement is not None:
        with duckdb_errors(f"creating macro {function_name!r} for {model_uri!r}"):
            connection.execute(statement)
        return registered(SqlFunction(function_name, model_uri, definition.version, "compiled", ""))

    with duckdb_errors(f"creating function {function_name!r} for {model_uri!r}"):
        create_arrow_function(
            connection, function_name, definition.function, definition.parameters, explain=definition.explain
        )
    return registered(SqlFunction(function_name, model_uri, definition.version, "python", reason))


def _forget_function(connection: duckdb.DuckDBPyConnection, function_name: str) -> None:
    # DuckDB creates neither a Python function nor a macro over a Python
    # function of the same name, so a name moving between paths is freed first.
    with contextlib.suppress(duckdb.InvalidInputException):
        connection.remove_function(function_name)
    with duckdb_errors(f"dropping the earlier function {function_name!r}"):
        connection.execute(f"DROP MACRO IF EXISTS {quote_identifier(function_name, 'duckdb')}")


def create_arrow_function(
    connection: duckdb.DuckDBPyConnection,
    function_name: str,
    function: BusinessFunction,
    parameters: Mapping[str, Any],
    *,
    explain: bool = False,
) -> None:
    """Create the DuckDB function ``function_name``: ``function`` with ``parameters``, run on Arrow batches."""

    def evaluate(*arrays: pa.Array) -> pa.Array:
        return evaluate_arrow(function, parameters, list(arrays), explain=explain)

    # DuckDB counts a function's parameters in its signature, where *arrays
    # counts as one; this signature has one parameter per input column.
    evaluate.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(column.name, inspect.Parameter.POSITIONAL_ONLY) for column in function.inputs]
    )
    connection.create_function(
        function_name,
        evaluate,
        [_duckdb_type(column) for column in function.inputs],
        _result_type(output_columns(function, explain=explain)),
        type=PythonUDFType.ARROW,
        # DuckDB passes nulls to the function instead of skipping the call.
        null_handling=FunctionNullHandling.SPECIAL,
    )


def _register_pyfunc(
    connection: duckdb.DuckDBPyConnection, function_name: str, model_uri: str, *, reason: str
) -> SqlFunction:
    # A model mlfunc cannot read, such as the original demo's pickled
    # HybridFunction: MLflow loads it, and it gets one double column.
    model, version = load_model(model_uri)
    name = input_column_name(model) or "x"

    def evaluate(values: pa.Array) -> pa.Array:
        frame = pa.table({name: values.cast(pa.float64())}).to_pandas()
        return pa.array(prediction_values(model.predict(frame)), type=pa.float64())

    with duckdb_errors(f"creating function {function_name!r} for {model_uri!r}"):
        connection.create_function(
            function_name, evaluate, [duckdb.sqltype("DOUBLE")], duckdb.sqltype("DOUBLE"), type=PythonUDFType.ARROW
        )
    return registered(SqlFunction(function_name, model_uri, version, "mlflow", reason))


def _duckdb_type(column: Column) -> Any:
    return duckdb.sqltype(sql_type(column, "duckdb"))


def _result_type(columns: tuple[Column, ...]) -> Any:
    if len(columns) == 1:
        return _duckdb_type(columns[0])
    return duckdb.struct_type({column.name: _duckdb_type(column) for column in columns})


def register_duckdb_table(
    connection: duckdb.DuckDBPyConnection, table_name: str, path: str | Path, *, sep: str | None = None
) -> None:
    """Make a CSV or Parquet file queryable as the view ``table_name``. DuckDB reads the file during the query."""
    source = Path(path)
    if not table_name.isidentifier():
        raise InputDataError(f"invalid table name {table_name!r}: use letters, digits and underscores")
    if not source.is_file():
        raise InputDataError(f"input file '{source}' for table {table_name!r} not found or not a regular file")

    writer = SqlWriter("duckdb")
    location = writer.text(str(source))
    if is_parquet(source):
        reader = f"read_parquet({location})"
    else:
        delimiter = writer.text(sep or detect_delimiter(source))
        reader = f"read_csv({location}, header = true, delim = {delimiter})"
    with duckdb_errors(f"reading '{source}' as table {table_name!r}"):
        connection.execute(
            f"CREATE OR REPLACE TEMP VIEW {quote_identifier(table_name, 'duckdb')} AS SELECT * FROM {reader}"
        )
    logger.info("Registered table %s from %s", table_name, source)


def run_duckdb_sql(
    query: str,
    *,
    models: Mapping[str, str],
    tables: Mapping[str, str],
    sep: str | None = None,
    output: str | Path | None = None,
    python_udf: bool = False,
) -> QueryResult:
    """Register ``models`` (SQL name to model URI) and ``tables`` (name to file), and run ``query`` with DuckDB.

    The result is collected in memory. With ``output`` it is also written
    as CSV or Parquet, atomically.
    """
    check_query_files(tables, output)

    connection = duckdb.connect()
    try:
        for function_name, model_uri in models.items():
            register_duckdb_function(connection, function_name, model_uri, python_udf=python_udf)
        for table_name, path in tables.items():
            register_duckdb_table(connection, table_name, path, sep=sep)
        with duckdb_errors("running the SQL query"):
            relation = connection.sql(query)
            # A statement without a result (DuckDB returns None for some) gives an empty table.
            result = QueryResult(relation.to_arrow_table() if relation is not None else pa.table({}))
    finally:
        connection.close()

    if output is not None:
        write_arrow_table(result.table, output)
    return result


def create_persistent_macro(database: str | Path, statement: str) -> None:
    """Run a CREATE MACRO ``statement`` in the DuckDB database file ``database``, creating the file if needed."""
    target = Path(database)
    if not target.parent.is_dir():
        raise InputDataError(f"cannot open DuckDB database '{target}': folder '{target.parent}' does not exist")
    with duckdb_errors(f"creating the macro in DuckDB database '{target}'"):
        connection = duckdb.connect(str(target))
        try:
            connection.execute(statement)
        finally:
            connection.close()
