"""Throughput and peak memory from 10 thousand to 10 million rows, per engine.

Engines: the core (both kernels), pandas ``predict`` on the loaded pyfunc
model, Spark SQL on its three paths (the compiled SQL function, mlfunc's
Arrow UDF and ``mlflow.pyfunc.spark_udf``) and DuckDB (the compiled macro
and the Arrow function).

Memory is measured the way each engine allows. For the core and pandas it is
tracemalloc's peak, because numpy and pandas report their buffers to it. For
Spark it is the sum of the peak resident sets (VmHWM) of the JVM and the
Python workers, from a fresh Spark session per size. The sum over-counts
pages that the workers share with the daemon they fork from. For DuckDB it is
the growth of the peak resident set of a fresh process during the query,
since DuckDB allocates outside Python's allocator.

Spark and DuckDB generate the random input inside the query and reduce the
result (Spark writes to its "noop" sink, DuckDB sums it), so every row is
computed and nothing is collected.

    python benchmarks/scaling.py [--sizes 10000 100000 1000000 10000000] [--spark-max-rows 10000000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from _common import HYBRID_PARAMETERS, deploy_benchmark_model, machine_description, median_seconds, throwaway_store

from mlfunc.core import evaluate_hybrid
from mlfunc.settings import KERNEL_ENV

# Engines measured in a child process each, by the name the table shows.
CHILD_ENGINES = {
    "spark-compiled": "Spark SQL, compiled SQL function",
    "spark-python": "Spark SQL, mlfunc Arrow UDF",
    "spark-udf": "Spark SQL, spark_udf",
    "duckdb-compiled": "DuckDB, compiled macro",
    "duckdb-python": "DuckDB, Arrow function",
}


def traced_peak_bytes(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def repeats_for(rows: int) -> int:
    # Enough runs for a stable median on small inputs, few on large ones.
    return max(3, min(50, 20_000_000 // rows))


def in_process_rows(model: object, rows: int) -> list[tuple[str, float, int]]:
    values = np.random.default_rng(rows).uniform(-10, 20, rows)
    frame = pd.DataFrame({"x": values})
    measured = []
    for kernel in ("numpy", "numba"):
        os.environ[KERNEL_ENV] = kernel
        evaluate = lambda: evaluate_hybrid(values, **HYBRID_PARAMETERS)  # noqa: E731
        seconds = median_seconds(evaluate, repeats=repeats_for(rows))
        measured.append((f"core, {kernel} kernel", rows / seconds, traced_peak_bytes(evaluate)))

        predict = lambda: model.predict(frame)  # type: ignore[attr-defined]  # noqa: E731
        seconds = median_seconds(predict, repeats=repeats_for(rows))
        measured.append((f"pandas predict, {kernel} kernel", rows / seconds, traced_peak_bytes(predict)))
    os.environ.pop(KERNEL_ENV, None)
    return measured


def child_row(engine: str, model_uri: str, rows: int) -> tuple[str, float, int] | None:
    """Measure one engine in a fresh process, so its memory is its own."""
    completed = subprocess.run(
        [sys.executable, __file__, "--child", engine, "--child-rows", str(rows), "--model-uri", model_uri],
        capture_output=True,
        text=True,
        check=False,
    )
    lines = [line for line in completed.stdout.splitlines() if line.startswith("{")]
    if completed.returncode != 0 or not lines:
        print(f"{CHILD_ENGINES[engine]} at {rows} rows failed:\n{completed.stderr[-2000:]}")
        return None
    result = json.loads(lines[-1])
    return (CHILD_ENGINES[engine], rows / result["seconds"], result["peak_bytes"])


def spark_child(engine: str, model_uri: str, rows: int) -> None:
    from mlfunc.spark_adapter.session import get_spark
    from mlfunc.spark_adapter.sql import register_model_function, register_sql_function

    spark = get_spark("mlfunc-scaling")
    if engine == "spark-udf":
        register_model_function(spark, "hybrid_udf", model_uri)
    else:
        register_sql_function(spark, "hybrid_udf", model_uri, python_udf=engine == "spark-python")
    query = f"SELECT hybrid_udf(x) AS y FROM (SELECT rand(42) * 30 - 10 AS x FROM range({rows}))"

    def run() -> None:
        spark.sql(query).write.format("noop").mode("overwrite").save()

    run()  # starts the Python workers and loads the model in them
    start = time.perf_counter()
    run()
    seconds = time.perf_counter() - start
    peak = sum(_peak_resident(pid) for pid in _descendants(os.getpid()))
    spark.stop()
    print(json.dumps({"seconds": seconds, "peak_bytes": peak}))


def duckdb_child(engine: str, model_uri: str, rows: int) -> None:
    import duckdb

    from mlfunc.duckdb_adapter.query import register_duckdb_function

    connection = duckdb.connect()
    register_duckdb_function(connection, "hybrid", model_uri, python_udf=engine == "duckdb-python")
    query = f"SELECT sum(hybrid(random() * 30 - 10)) FROM range({rows})"
    connection.sql(query).fetchall()  # warms up, as for Spark
    before = _peak_resident(os.getpid())
    start = time.perf_counter()
    connection.sql(query).fetchall()
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_bytes": max(0, _peak_resident(os.getpid()) - before)}))


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], list(children.get(pid, []))
    while pending:
        child = pending.pop()
        found.append(child)
        pending.extend(children.get(child, []))
    return found


def _peak_resident(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000, 10_000_000])
    parser.add_argument("--spark-max-rows", type=int, default=10_000_000, help="Skip Spark above this many rows.")
    parser.add_argument("--child", choices=sorted(CHILD_ENGINES), help=argparse.SUPPRESS)
    parser.add_argument("--child-rows", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model-uri", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.child:
        run_child = duckdb_child if arguments.child.startswith("duckdb") else spark_child
        run_child(arguments.child, arguments.model_uri, arguments.child_rows)
        return

    print(f"Machine: {machine_description()}")
    print("| engine | rows | M rows/s | peak memory (MiB) |")
    print("| --- | ---: | ---: | ---: |")
    with throwaway_store():
        from mlfunc.mlflow_adapter.loading import load_model

        model_uri = deploy_benchmark_model()
        model, _ = load_model(model_uri)
        for rows in arguments.sizes:
            measured = in_process_rows(model, rows)
            for engine, name in CHILD_ENGINES.items():
                if engine.startswith("spark") and rows > arguments.spark_max_rows:
                    print(f"| {name} | {rows} | skipped | skipped |")
                    continue
                row = child_row(engine, model_uri, rows)
                if row is not None:
                    measured.append(row)
            for engine, rate, peak in measured:
                print(f"| {engine} | {rows} | {rate / 1e6:.2f} | {peak / 2**20:.1f} |", flush=True)


if __name__ == "__main__":
    main()
