"""Core evaluation of the hybrid function against a plain copy of the same array.

Goal: on 10 million float64 values, at least 50% of the throughput of
``x.copy()``, with peak extra memory of at most one output array, and the
same bits as the reference formula. Both kernels are measured (numpy, the
default, and numba, selected with MLFUNC_KERNEL=numba).

The piecewise functions do not exist yet, so only the hybrid function is
measured. ``--techniques`` also measures the other techniques that were
tried (when their packages are installed), to show why these two were kept.

    python benchmarks/core.py [--size 10000000] [--repeats 9] [--techniques]
"""

from __future__ import annotations

import argparse
import os
import tracemalloc
from collections.abc import Callable

import numpy as np
from _common import HYBRID_PARAMETERS, machine_description, paired_medians, verdict

from mlfunc.core import evaluate_hybrid
from mlfunc.core import hybrid as hybrid_module
from mlfunc.settings import KERNEL_ENV, KERNELS

X0, Y0, GRADIENT = HYBRID_PARAMETERS["x0"], HYBRID_PARAMETERS["y0"], HYBRID_PARAMETERS["gradient"]
INTERCEPT = Y0 - GRADIENT * X0


def make_input(size: int) -> np.ndarray:
    """Uniform values on both sides of the breakpoint, in random order, with some NaN."""
    values = np.random.default_rng(0).uniform(-10, 20, size)
    values[::1000] = np.nan
    return values


def reference(x: np.ndarray) -> np.ndarray:
    return np.where(x < X0, Y0, GRADIENT * x + INTERCEPT)


def with_kernel(kernel: str) -> Callable[[np.ndarray], np.ndarray]:
    def evaluate(x: np.ndarray) -> np.ndarray:
        os.environ[KERNEL_ENV] = kernel
        try:
            return evaluate_hybrid(x, x0=X0, y0=Y0, gradient=GRADIENT)
        finally:
            os.environ.pop(KERNEL_ENV, None)

    return evaluate


def peak_extra_bytes(action: Callable[[], object]) -> int:
    """Return the peak memory ``action`` allocates through Python's allocator, which numpy reports to."""
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def alternative_techniques() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """Return the techniques tried and not kept, where their packages are installed."""

    def whole_array_numpy(x: np.ndarray) -> np.ndarray:
        result = np.multiply(x, GRADIENT, out=np.empty_like(x))
        result += INTERCEPT
        np.copyto(result, Y0, where=x < X0)
        return result

    def numpy_where(x: np.ndarray) -> np.ndarray:
        return reference(x)

    techniques = {"numpy, whole-array passes": whole_array_numpy, "numpy.where": numpy_where}
    for block in (2048, 32768, 131072):
        techniques[f"numpy blocks of {block}"] = _blocked(block)
    try:
        import numexpr

        numexpr.set_num_threads(1)
        techniques["numexpr (1 thread)"] = lambda x: numexpr.evaluate(
            "where(x < x0, y0, g * x + c)", local_dict={"x": x, "x0": X0, "y0": Y0, "g": GRADIENT, "c": INTERCEPT}
        )
    except ImportError:
        print("numexpr not installed: skipped")
    import pyarrow as pa
    import pyarrow.compute as pc

    techniques["pyarrow.compute"] = lambda x: pc.if_else(
        pc.less(pa.array(x), X0), Y0, pc.add(pc.multiply(pa.array(x), GRADIENT), INTERCEPT)
    ).to_numpy(zero_copy_only=False)
    return techniques


def _blocked(block: int) -> Callable[[np.ndarray], np.ndarray]:
    def evaluate(x: np.ndarray) -> np.ndarray:
        saved = hybrid_module.BLOCK_SIZE
        hybrid_module.BLOCK_SIZE = block
        try:
            return evaluate_hybrid(x, x0=X0, y0=Y0, gradient=GRADIENT)
        finally:
            hybrid_module.BLOCK_SIZE = saved

    return evaluate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000_000, help="Values per array (default 10 million).")
    parser.add_argument("--repeats", type=int, default=15, help="Timed runs per figure; the median is shown.")
    parser.add_argument("--techniques", action="store_true", help="Also measure the techniques not kept.")
    arguments = parser.parse_args()

    print(f"Machine: {machine_description()}")
    x = make_input(arguments.size)
    expected = reference(x)

    candidates = {f"kernel {kernel}": with_kernel(kernel) for kernel in KERNELS}
    if arguments.techniques:
        candidates.update(alternative_techniques())

    for name, evaluate in candidates.items():
        before = x.copy()
        result = evaluate(x)  # the first call also compiles the numba kernel
        exact = np.array_equal(result, expected, equal_nan=True) and np.array_equal(x, before, equal_nan=True)
        copy_seconds, seconds, ratio = paired_medians(
            x.copy, lambda evaluate=evaluate: evaluate(x), repeats=arguments.repeats, warmup=0
        )
        rate = arguments.size / seconds
        extra = peak_extra_bytes(lambda evaluate=evaluate: evaluate(x)) / expected.nbytes
        # pyarrow allocates outside Python's allocator, so tracemalloc cannot see its memory.
        memory = "not visible to tracemalloc" if name == "pyarrow.compute" else f"{extra:.4f} output arrays"
        print(f"{name}: {rate / 1e6:.0f} M values/s (plain copy alongside: {arguments.size / copy_seconds / 1e6:.0f}), "
              f"peak extra memory {memory}, {'same bits as the reference' if exact else 'DIFFERS from the reference'}")
        if name.startswith("kernel "):
            print("  " + verdict("throughput / plain copy", ratio, 0.5, higher_is_better=True))
            # The goal allows one output array; 1 MiB more covers per-block buffers and Python objects.
            allowance = 1 + 2**20 / expected.nbytes
            memory_goal = verdict("peak extra memory / output", extra, allowance, higher_is_better=False, digits=5)
            print("  " + memory_goal)
            print(f"  exact agreement with the reference: {'PASS' if exact else 'MISS'}")


if __name__ == "__main__":
    main()
