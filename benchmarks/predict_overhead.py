"""The cost MLflow's pyfunc wrapper adds to the core evaluation.

Goals: ``loaded_model.predict`` on 1 million rows reaches at least 80% of
the core's throughput on the same values, and one ``predict`` call on one
row costs less than 0.1 ms more than the core on one row. The model is
deployed to a throwaway MLflow store and loaded as users load it. The
breakdown shows where the fixed cost of one call goes.

    python benchmarks/predict_overhead.py [--rows 1000000] [--calls 3000]
"""

from __future__ import annotations

import argparse
import inspect
import os

import numpy as np
import pandas as pd
from _common import (
    HYBRID_PARAMETERS,
    deploy_benchmark_model,
    machine_description,
    median_seconds,
    paired_medians,
    throwaway_store,
    verdict,
)

from mlfunc.core import evaluate_hybrid
from mlfunc.settings import KERNEL_ENV, KERNELS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows of the large call (default 1 million).")
    parser.add_argument("--repeats", type=int, default=21, help="Timed large calls per figure; the median is shown.")
    parser.add_argument("--calls", type=int, default=3000, help="Timed one-row calls per figure.")
    arguments = parser.parse_args()
    print(f"Machine: {machine_description()}")

    with throwaway_store():
        from mlfunc.mlflow_adapter.loading import load_model

        model, _ = load_model(deploy_benchmark_model())
        for kernel in KERNELS:
            os.environ[KERNEL_ENV] = kernel
            print(f"\nkernel {kernel}")
            measure_throughput(model, arguments.rows, arguments.repeats)
            measure_fixed_cost(model, arguments.calls)
        os.environ.pop(KERNEL_ENV, None)
        print_breakdown(model, arguments.calls)


def measure_throughput(model: object, rows: int, repeats: int) -> None:
    values = np.random.default_rng(0).uniform(-10, 20, rows)
    frame = pd.DataFrame({"x": values})
    predictions = model.predict(frame)  # type: ignore[attr-defined]
    expected = evaluate_hybrid(values, **HYBRID_PARAMETERS)
    assert np.array_equal(predictions["y"].to_numpy(), expected), "predict differs from the core"

    from mlflow.models.utils import _enforce_schema  # MLflow's schema check, timed on its own

    schema = model.metadata.get_input_schema()  # type: ignore[attr-defined]
    core, predict, ratio = paired_medians(
        lambda: evaluate_hybrid(values, **HYBRID_PARAMETERS),
        lambda: model.predict(frame),  # type: ignore[attr-defined]
        repeats=repeats,
    )
    enforcement = median_seconds(lambda: _enforce_schema(frame, schema), repeats=repeats)
    print(f"  core on {rows} rows: {rows / core / 1e6:.0f} M rows/s; predict: {rows / predict / 1e6:.0f} M rows/s")
    print(f"  of predict's {(predict - core) * 1e3:.1f} ms over the core, MLflow's schema enforcement (which copies "
          f"the column into a new frame) takes {enforcement * 1e3:.1f} ms")
    print("  " + verdict("predict throughput / core throughput", ratio, 0.8, higher_is_better=True))


def measure_fixed_cost(model: object, calls: int) -> None:
    one_row = pd.DataFrame({"x": [7.0]})
    one_value = np.array([7.0])
    core, predict, _ = paired_medians(
        lambda: evaluate_hybrid(one_value, **HYBRID_PARAMETERS),
        lambda: model.predict(one_row),  # type: ignore[attr-defined]
        repeats=calls,
        warmup=100,
    )
    print(f"  one row: core {core * 1e3:.3f} ms, predict {predict * 1e3:.3f} ms")
    print("  " + verdict("predict - core on one row", (predict - core) * 1e3, 0.1, higher_is_better=False, unit=" ms"))


def print_breakdown(model: object, calls: int) -> None:
    # MLflow internals, named here only to time them: PyFuncModel.predict
    # enforces the schema, then calls _PythonModelPyfuncWrapper.predict, which
    # inspects FunctionModel.predict's signature and calls it.
    from mlflow.models.utils import _enforce_schema

    one_row = pd.DataFrame({"x": [7.0]})
    wrapper = model._model_impl  # type: ignore[attr-defined]
    schema = model.metadata.get_input_schema()  # type: ignore[attr-defined]
    enforced = _enforce_schema(one_row, schema)
    python_model = wrapper.python_model

    def timed(action: object) -> float:
        return median_seconds(action, repeats=calls, warmup=100) * 1e3  # type: ignore[arg-type]

    total = timed(lambda: model.predict(one_row))  # type: ignore[attr-defined]
    enforcement = timed(lambda: _enforce_schema(one_row, schema))
    wrapped = timed(lambda: wrapper.predict(enforced))
    ours = timed(lambda: python_model.predict(None, enforced))
    core = timed(lambda: evaluate_hybrid(np.array([7.0]), **HYBRID_PARAMETERS))
    signature = timed(lambda: inspect.signature(wrapper.predict))
    unwrapped = python_model.predict.__func__.__wrapped__
    avoided = timed(lambda: inspect.signature(unwrapped))
    print("\nWhere one predict call on one row goes (numpy kernel, median ms):")
    print(f"  PyFuncModel.predict in all:                         {total:.3f}")
    print(f"  MLflow schema enforcement (_enforce_schema):         {enforcement:.3f}  kept: it is the schema check")
    print(f"  MLflow inspect.signature of its own wrapper:         {signature:.3f}  MLflow's, per call")
    print(f"  MLflow prediction context and the rest of predict:   {total - enforcement - wrapped - signature:.3f}")
    print(f"  MLflow wrapper around FunctionModel.predict:         {wrapped - ours:.3f}")
    print(f"  FunctionModel.predict without the core:              {ours - core:.3f}  mlfunc's own")
    print(f"  core evaluation:                                     {core:.3f}")
    print(f"  avoided: inspect.signature of FunctionModel.predict: {avoided:.3f}  spared by its __signature__")


if __name__ == "__main__":
    main()
