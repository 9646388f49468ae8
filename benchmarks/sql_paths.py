"""The SQL paths of one hybrid model, timed in one run on the same data.

Spark (local mode, one session) runs each function over the same cached
column of random doubles, and writes the result to Spark's "noop" sink so
that every row is computed and nothing is collected:

- compiled: the model registered by register_sql_function, a SQL function
  Spark inlines, against the same CASE WHEN written by hand (goal >= 0.9);
- Python path: register_sql_function(python_udf=True), mlfunc's Arrow UDF,
  against a hand-written pandas_udf (goal >= 0.8), with
  mlflow.pyfunc.spark_udf shown for comparison;
- the Python path against the original demo's model, a PythonModel that
  applies the function cell by cell, through spark_udf (goal >= 4x).

DuckDB runs the compiled macro over an Arrow table in this process, against
pandas predict on the loaded pyfunc model over the same values.

    python benchmarks/sql_paths.py [--rows 10000000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from _common import HYBRID_PARAMETERS, deploy_benchmark_model, machine_description, paired_medians, throwaway_store
from mlflow.pyfunc import PythonModel

# spark_udf downloads the model with a progress bar per registration.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

X0, Y0, GRADIENT = HYBRID_PARAMETERS["x0"], HYBRID_PARAMETERS["y0"], HYBRID_PARAMETERS["gradient"]
INTERCEPT = Y0 - GRADIENT * X0
HAND_WRITTEN = f"CASE WHEN x < {X0} THEN {Y0} ELSE {GRADIENT} * x + {INTERCEPT} END"


class OriginalDemoModel(PythonModel):  # type: ignore[misc]
    """The original demo's model: the hybrid function applied to one cell at a time."""

    def __init__(self, x0: float, y0: float, gradient: float) -> None:
        self.x0, self.y0, self.gradient = x0, y0, gradient
        self.c = y0 - gradient * x0

    def _custom_function(self, x: float) -> float:
        return self.y0 if x < self.x0 else self.gradient * x + self.c

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return model_input.map(self._custom_function)


def log_original_model() -> str:
    import mlflow

    from mlfunc.mlflow_adapter.store import use_store

    use_store()
    with mlflow.start_run():
        info = mlflow.pyfunc.log_model(name="model", python_model=OriginalDemoModel(X0, Y0, GRADIENT))
    return str(info.model_uri)


def report(name: str, baseline: str, candidate: str, timings: tuple[float, float, float], rows: int) -> float:
    base_seconds, candidate_seconds, ratio = timings
    print(
        f"  {baseline}: {rows / base_seconds / 1e6:.2f} M rows/s; {candidate}: {rows / candidate_seconds / 1e6:.2f} "
        f"M rows/s; {name} ratio {ratio:.2f}"
    )
    return ratio


def spark_ratios(model_uri: str, original_uri: str, rows: int, repeats: int) -> dict[str, float]:
    from pyspark.sql.functions import pandas_udf

    from mlfunc.spark_adapter.session import get_spark
    from mlfunc.spark_adapter.sql import register_model_function, register_sql_function

    spark = get_spark("mlfunc-sql-paths")
    data = spark.range(rows, numPartitions=spark.sparkContext.defaultParallelism).selectExpr(
        "rand(42) * 30 - 10 AS x"
    )
    data.cache().createOrReplaceTempView("data")
    data.count()

    register_sql_function(spark, "compiled_udf", model_uri)
    register_sql_function(spark, "python_udf", model_uri, python_udf=True)
    register_model_function(spark, "spark_udf", model_uri)
    register_model_function(spark, "original_udf", original_uri)

    @pandas_udf("double")  # type: ignore[call-overload]
    def hand_pandas_udf(x: pd.Series) -> pd.Series:
        return pd.Series(np.where(x < X0, Y0, GRADIENT * x + INTERCEPT))

    spark.udf.register("hand_pandas_udf", hand_pandas_udf)

    def query(expression: str) -> Callable[[], None]:
        def run() -> None:
            spark.sql(f"SELECT {expression} AS y FROM data").write.format("noop").mode("overwrite").save()

        return run

    ratios = {}
    print(f"Spark {spark.version}, local mode, {rows:,} cached rows, median of {repeats} paired runs:")
    # The two plans are the same, so each run is short and the ratio is close
    # to 1: three times the runs keep the noise of a shared machine down.
    timings = paired_medians(query(HAND_WRITTEN), query("compiled_udf(x)"), repeats=3 * repeats)
    ratios["compiled vs hand-written CASE WHEN"] = report("speed", "CASE WHEN", "compiled", timings, rows)
    timings = paired_medians(query("hand_pandas_udf(x)"), query("python_udf(x)"), repeats=repeats)
    ratios["Python path vs hand-written pandas_udf"] = report("speed", "pandas_udf", "Python path", timings, rows)
    timings = paired_medians(query("hand_pandas_udf(x)"), query("spark_udf(x)"), repeats=repeats)
    report("speed (for comparison, no goal)", "pandas_udf", "spark_udf", timings, rows)
    timings = paired_medians(query("original_udf(x)"), query("python_udf(x)"), repeats=repeats)
    ratios["Python path vs original row-by-row model"] = report(
        "speed-up", "original model", "Python path", timings, rows
    )
    timings = paired_medians(query("original_udf(x)"), query("compiled_udf(x)"), repeats=repeats)
    ratios["compiled path vs original row-by-row model"] = report(
        "speed-up", "original model", "compiled", timings, rows
    )
    spark.stop()
    return ratios


def duckdb_ratio(model_uri: str, rows: int, repeats: int) -> float:
    import duckdb
    import pyarrow as pa

    from mlfunc.duckdb_adapter.query import register_duckdb_function
    from mlfunc.mlflow_adapter.loading import load_model

    values = np.random.default_rng(42).uniform(-10, 20, rows)
    frame = pd.DataFrame({"x": values})
    model, _ = load_model(model_uri)
    connection = duckdb.connect()
    connection.register("data", pa.table({"x": values}))
    register_duckdb_function(connection, "f", model_uri)

    def pandas_predict() -> None:
        model.predict(frame)

    def duckdb_query() -> None:
        connection.sql("SELECT f(x) AS y FROM data").to_arrow_table()

    print(f"DuckDB in this process over an Arrow table of {rows:,} rows, median of {repeats} paired runs:")
    timings = paired_medians(pandas_predict, duckdb_query, repeats=repeats)
    return report("speed", "pandas predict", "DuckDB macro", timings, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    print(f"Machine: {machine_description()}")
    started = time.perf_counter()
    with throwaway_store():
        model_uri = deploy_benchmark_model()
        original_uri = log_original_model()
        ratios = spark_ratios(model_uri, original_uri, arguments.rows, arguments.repeats)
        duckdb = duckdb_ratio(model_uri, arguments.rows, arguments.repeats)

    print("\nGoals:")
    goals = {
        "compiled vs hand-written CASE WHEN": 0.9,
        "Python path vs hand-written pandas_udf": 0.8,
        "Python path vs original row-by-row model": 4.0,
    }
    for name, goal in goals.items():
        measured = ratios[name]
        print(f"  {name}: {measured:.2f} (goal >= {goal:g}) {'PASS' if measured >= goal else 'MISS'}")
    speed_up = ratios["compiled path vs original row-by-row model"]
    print(f"  compiled path (the default) vs original row-by-row model: {speed_up:.2f} (no goal)")
    print(f"  DuckDB vs pandas predict: {duckdb:.2f} (no goal; above 1 means DuckDB is faster)")
    print(f"Total time: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
