"""Registering models as Spark SQL functions, files as tables, and running queries."""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pyarrow as pa
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from mlfunc.arrow_eval import evaluate_arrow, output_columns
from mlfunc.core import BusinessFunction
from mlfunc.core.sql import sql_type
from mlfunc.errors import CompileError, InputDataError, SparkError
from mlfunc.mlflow_adapter.definition import (
    SqlFunction,
    check_function_name,
    compile_model,
    compiled_statement,
    read_definition,
    registered,
)
from mlfunc.mlflow_adapter.registry import RegisteredVersion, resolve_version
from mlfunc.mlflow_adapter.store import use_store
from mlfunc.tables import detect_delimiter, is_parquet

logger = logging.getLogger(__name__)


class _DropLocalEnvWarning(logging.Filter):
    # spark_udf warns that env_manager="local" does not rebuild the model's
    # environment. mlfunc chooses "local" on purpose: the workers run the
    # interpreter that logged the model, and no conda or network is needed.
    def filter(self, record: logging.LogRecord) -> bool:
        return 'env_manager="local"' not in record.getMessage()


@contextlib.contextmanager
def spark_errors(action: str) -> Iterator[None]:
    """Translate Spark errors raised while doing ``action`` into SparkError, keeping the first line."""
    try:
        yield
    except PySparkException as exc:
        summary = _summarise(exc)
        raise SparkError(f"{action} failed: {summary}") from exc


def _summarise(exc: PySparkException) -> str:
    # A Python UDF error carries the worker's whole traceback. Its last
    # exception line, with the lines its message runs on to, is the error
    # the user can act on.
    text = str(exc).strip()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    if "Traceback" not in text:
        return lines[0]
    starts = [index for index, line in enumerate(lines) if _EXCEPTION_LINE.match(line)]
    summary = " ".join(lines[starts[-1] :] if starts else lines[-1:])
    return summary if len(summary) <= _SUMMARY_LIMIT else summary[: _SUMMARY_LIMIT - 3] + "..."


# "mlflow.exceptions.MlflowException: ..." or "ValueError: ...".
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Warning)\b[^:]*:")
_SUMMARY_LIMIT = 500


def register_sql_function(
    spark: SparkSession, function_name: str, model_uri: str, *, python_udf: bool = False
) -> SqlFunction:
    """Register ``model_uri`` as the Spark SQL function ``function_name``, on the fastest path it allows.

    A version whose function compiles to SQL becomes a temporary SQL
    function (``CREATE TEMPORARY FUNCTION ... RETURN``), which Spark inlines
    into the query plan. Otherwise, or with ``python_udf``, the function runs
    on Python workers on Arrow batches; a model mlfunc did not log from
    source code runs through ``mlflow.pyfunc.spark_udf``.
    """
    check_function_name(function_name)
    try:
        definition = read_definition(model_uri)
    except CompileError as exc:
        version = register_model_function(spark, function_name, model_uri)
        return registered(SqlFunction(function_name, model_uri, version, "mlflow", str(exc)))

    statement, reason = compiled_statement(definition, "spark", function_name, python_udf=python_udf)
    if statement is not None:
        with spark_errors(f"creating SQL function {function_name!r} for {model_uri!r}"):
            # CREATE OR REPLACE refuses to replace a Python UDF of the same
            # name, such as one registered earlier in the session.
            spark.sql(f"DROP TEMPORARY FUNCTION IF EXISTS {function_name}")
            spark.sql(statement)
        return registered(SqlFunction(function_name, model_uri, definition.version, "compiled", ""))

    if not _runs_without_user_code(definition.function) or not _has_arrow_udfs():
        # spark_udf ships the model's code to the workers, which may not
        # import the user's own module. It also runs on PySpark before 4.1,
        # which has no Arrow UDFs.
        version = register_model_function(spark, function_name, model_uri)
        return registered(SqlFunction(function_name, model_uri, version, "mlflow", reason))
    with spark_errors(f"registering {model_uri!r} as SQL function {function_name!r}"):
        udf = arrow_function(definition.function, definition.parameters, explain=definition.explain)
        spark.udf.register(function_name, udf)
    return registered(SqlFunction(function_name, model_uri, definition.version, "python", reason))


def create_persistent_function(spark: SparkSession, function_name: str, model_uri: str) -> str:
    """Create ``model_uri`` as the persistent SQL function ``function_name`` in the session's catalog.

    ``function_name`` may be dotted (``catalog.schema.name``). The function
    is a snapshot of the version the URI resolves to now, and its comment
    names that version. Returns the statement that was run. Raises
    CompileError for a function without a SQL translation.
    """
    statement = compile_model(read_definition(model_uri), "spark", function_name=function_name, temporary=False)
    with spark_errors(f"creating persistent SQL function {function_name!r} for {model_uri!r}"):
        spark.sql(statement)
    logger.info("Created persistent SQL function %s for %s", function_name, model_uri)
    return statement


def _has_arrow_udfs() -> bool:
    # NOTE: the tests run PySpark 4.3 only, so they never take the fallback
    # for a PySpark without arrow_udf, such as one on Spark 4.0.
    import pyspark.sql.functions

    return hasattr(pyspark.sql.functions, "arrow_udf")


def _runs_without_user_code(function: BusinessFunction) -> bool:
    # Whether every callable of the declaration comes from mlfunc, as for a
    # decision table declared in a user's module: then the workers need
    # mlfunc only, because the closures travel with the function.
    callables = (function.evaluate, function.golden_cases, function.segment, function.breakpoints)
    others = (function.check, function.explain, function.sql)
    return all(
        getattr(code, "__module__", "").split(".")[0] == "mlfunc" for code in (*callables, *others) if code is not None
    )


def arrow_function(function: BusinessFunction, parameters: Mapping[str, Any], *, explain: bool = False) -> Any:
    """Return a Spark Arrow UDF that evaluates ``function`` with validated ``parameters`` on Python workers."""
    # pyspark 4.3's type stubs do not declare arrow_udf yet (new in 4.1).
    from pyspark.sql.functions import arrow_udf  # type: ignore[attr-defined]

    # The closure carries the function and its parameters to the workers,
    # which need mlfunc installed but no MLflow model. Spark reads the kind
    # of Arrow function from the type hints.
    def evaluate(*arrays: pa.Array) -> pa.Array:
        return evaluate_arrow(function, parameters, list(arrays), explain=explain)

    columns = [(column.name, sql_type(column, "spark")) for column in output_columns(function, explain=explain)]
    return arrow_udf(evaluate, returnType=_spark_type(columns))


def register_model_function(spark: SparkSession, function_name: str, model_uri: str) -> RegisteredVersion | None:
    """Register ``model_uri`` as the Spark SQL function ``function_name`` through ``mlflow.pyfunc.spark_udf``.

    The model runs in the current Python environment. Returns the registered
    version the URI resolved to. :func:`register_sql_function` chooses a
    faster path where the model allows one.
    """
    check_function_name(function_name)

    use_store()
    version = resolve_version(model_uri)

    pyfunc_logger = logging.getLogger("mlflow.pyfunc")
    quiet = _DropLocalEnvWarning()
    pyfunc_logger.addFilter(quiet)
    try:
        with spark_errors(f"registering {model_uri!r} as SQL function {function_name!r}"):
            result_type = spark_result_type(model_uri)
            udf = mlflow.pyfunc.spark_udf(spark, model_uri, result_type=result_type, env_manager="local")
            spark.udf.register(function_name, udf)
    finally:
        pyfunc_logger.removeFilter(quiet)

    logger.debug("Registered SQL function %s for %s through spark_udf", function_name, model_uri)
    return version


_SPARK_TYPES = {"double": "double", "string": "string", "boolean": "boolean", "long": "bigint"}


def spark_result_type(model_uri: str) -> str:
    """Return the Spark SQL type of the model's output: its one column's type, or a struct of all columns.

    A model without an output signature is assumed to return one double.
    """
    from mlflow.models import get_model_info

    schema = get_model_info(model_uri).signature
    outputs = schema.outputs if schema is not None else None
    if outputs is None or not outputs.has_input_names():
        return "double"
    columns = [(str(spec.name), _SPARK_TYPES.get(spec.type.name, "string")) for spec in outputs.inputs]
    return _spark_type(columns)


def _spark_type(columns: Sequence[tuple[str, str]]) -> str:
    # One column's type, or a struct of all of them.
    if len(columns) == 1:
        return columns[0][1]
    return "struct<" + ", ".join(f"`{name}`: {kind}" for name, kind in columns) + ">"


def register_table(spark: SparkSession, table_name: str, path: str | Path, *, sep: str | None = None) -> DataFrame:
    """Read a CSV or Parquet file and register it as the temporary view ``table_name``."""
    source = Path(path)
    if not table_name.isidentifier():
        raise InputDataError(f"invalid table name {table_name!r}: use letters, digits and underscores")
    if not source.is_file():
        raise InputDataError(f"input file '{source}' for table {table_name!r} not found or not a regular file")

    with spark_errors(f"reading '{source}' as table {table_name!r}"):
        if is_parquet(source):
            frame = spark.read.parquet(str(source))
        else:
            delimiter = sep or detect_delimiter(source)
            frame = spark.read.csv(str(source), header=True, sep=delimiter, inferSchema=True)
        frame.createOrReplaceTempView(table_name)

    logger.info("Registered table %s from %s", table_name, source)
    return frame


def run_query(spark: SparkSession, query: str) -> DataFrame:
    """Parse and analyse ``query``, raising SparkError with Spark's message if it is invalid."""
    with spark_errors("SQL query"):
        return spark.sql(query)
