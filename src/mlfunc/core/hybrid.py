"""The hybrid function: a constant segment, then a linear one from a breakpoint.

``y = y0`` when ``x < x0``, else ``y = gradient * x + c`` with
``c = y0 - gradient * x0``, so the two segments meet at ``(x0, y0)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfunc.core.function import BusinessFunction, Column, FloatArray, GoldenCase
from mlfunc.core.parameters import Parameter
from mlfunc.core.sql import SqlWriter
from mlfunc.errors import ConfigurationError
from mlfunc.settings import KERNEL_ENV, evaluation_kernel

# Elements per block of the numpy kernel. A block of input, output and mask
# (8192 * 17 bytes) fits in the L2 cache of x86 CPUs (256 KiB or more), so
# each block is read from memory once. benchmarks/core.py --techniques
# measures other sizes.
BLOCK_SIZE = 8192

# The signature both kernels share: values, output, x0, y0, gradient, intercept.
KernelFunction = Callable[[FloatArray, FloatArray, float, float, float, float], None]


def evaluate_hybrid(x: npt.ArrayLike, *, x0: float, y0: float, gradient: float) -> FloatArray:
    """Evaluate the hybrid function on every element of ``x``.

    NaN input gives NaN output. The linear segment is computed as
    ``gradient * x + c`` in IEEE double precision, like the original demo, so
    ``x = inf`` with ``gradient = 0`` gives NaN (``0 * inf``), and at the
    breakpoint the result can differ from ``y0`` by the rounding error of
    ``gradient * x0``. Every kernel (see :func:`mlfunc.settings.evaluation_kernel`)
    gives the same bits. The only memory used beyond the returned array is a
    small per-block buffer, plus a copy of ``x`` when it is not a contiguous
    float64 array.

    >>> evaluate_hybrid([1.0, 5.0, 7.0], x0=5.0, y0=2.0, gradient=1.0).tolist()
    [2.0, 2.0, 4.0]
    """
    values = np.asarray(x, dtype=np.float64)
    if not (values.flags.c_contiguous or values.flags.f_contiguous):
        values = np.ascontiguousarray(values)
    result = np.empty_like(values)
    intercept = y0 - gradient * x0

    # Both arrays have the same memory layout, so their flat views in memory
    # order ("K") line up element by element, and neither view copies.
    flat_values = values.ravel(order="K")
    flat_result = result.ravel(order="K")
    if evaluation_kernel() == "numba":
        _compiled_kernel()(flat_values, flat_result, x0, y0, gradient, intercept)
    else:
        _evaluate_blocks(flat_values, flat_result, x0, y0, gradient, intercept)
    return result


def segment_hybrid(x: npt.ArrayLike, *, x0: float, y0: float, gradient: float) -> npt.NDArray[np.int64]:
    """Label each value with its segment: 0 constant (x < x0), 1 linear (x >= x0), -1 NaN."""
    values = np.asarray(x, dtype=np.float64)
    labels = np.where(values < x0, 0, 1).astype(np.int64)
    labels[np.isnan(values)] = -1
    return labels


def _evaluate_blocks(
    values: FloatArray, out: FloatArray, x0: float, y0: float, gradient: float, intercept: float
) -> None:
    # One pass per operation over a whole array would read and write it from
    # memory four times. Block by block, the later passes hit the cache.
    below = np.empty(min(values.size, BLOCK_SIZE), dtype=np.bool_)
    # Overflow to inf and 0 * inf = NaN are the documented IEEE results, and
    # the numba kernel cannot warn about them, so neither kernel does.
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, values.size, BLOCK_SIZE):
            chunk = values[start : start + BLOCK_SIZE]
            target = out[start : start + BLOCK_SIZE]
            mask = below[: chunk.size]

            np.multiply(chunk, gradient, out=target)
            np.add(target, intercept, out=target)
            # NaN < x0 is False, so NaN rows keep the NaN of the linear segment.
            # On a block in the cache, putmask took half the time of copyto(where=).
            np.less(chunk, x0, out=mask)
            np.putmask(target, mask, y0)


def _compiled_kernel() -> KernelFunction:
    try:
        from mlfunc.core._compiled import evaluate_hybrid_compiled
    except ImportError as exc:
        raise ConfigurationError(
            f"{KERNEL_ENV}=numba needs the numba package: pip install 'mlfunc[jit]', or unset {KERNEL_ENV} to use numpy"
        ) from exc
    kernel: KernelFunction = evaluate_hybrid_compiled
    return kernel


def _golden_cases(params: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
    x0, y0, gradient = params["x0"], params["y0"], params["gradient"]
    return (
        GoldenCase(x=x0 - 1.0, expected=y0),
        GoldenCase(x=x0, expected=y0),
        GoldenCase(x=x0 + 1.0, expected=y0 + gradient),
    )


def hybrid_sql(params: Mapping[str, Any], sql: SqlWriter) -> str:
    """Write the hybrid function as a SQL CASE expression with the kernels' arithmetic.

    NaN < x0 is false in SQL too, so NaN and null rows take the linear
    segment and keep their NaN or null, as in numpy.
    """
    x0, y0, gradient = params["x0"], params["y0"], params["gradient"]
    intercept = y0 - gradient * x0
    x = sql.column("x")
    return (
        f"CASE WHEN {x} < {sql.number(x0)} THEN {sql.number(y0)} "
        f"ELSE {sql.number(gradient)} * {x} + {sql.number(intercept)} END"
    )


HYBRID = BusinessFunction(
    name="hybrid",
    description="constant y0 below the breakpoint x0, then a line of slope gradient through (x0, y0)",
    parameters=(
        Parameter("x0", "breakpoint: the x where the linear segment starts"),
        Parameter("y0", "constant output below the breakpoint"),
        Parameter("gradient", "slope of the linear segment"),
    ),
    inputs=(Column("x", "double", "the value the function is applied to"),),
    outputs=(Column("y", "double", "the function's output"),),
    evaluate=evaluate_hybrid,
    golden_cases=_golden_cases,
    plot_domain=(-10.0, 20.0),
    segment=segment_hybrid,
    breakpoints=lambda params: (params["x0"],),
    sql=hybrid_sql,
)
