"""The hybrid function: a constant segment, then a linear one from a breakpoint.

``y = y0`` when ``x < x0``, else ``y = gradient * x + c`` with
``c = y0 - gradient * x0``, so the two segments meet at ``(x0, y0)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from mlfunc.core.function import BusinessFunction, Column, FloatArray, GoldenCase
from mlfunc.core.parameters import Parameter


def evaluate_hybrid(x: npt.ArrayLike, *, x0: float, y0: float, gradient: float) -> FloatArray:
    """Evaluate the hybrid function on every element of ``x``.

    NaN input gives NaN output. The linear segment is computed as
    ``gradient * x + c`` in IEEE double precision, like the original demo, so
    ``x = inf`` with ``gradient = 0`` gives NaN (``0 * inf``), and at the
    breakpoint the result can differ from ``y0`` by the rounding error of
    ``gradient * x0``.

    >>> evaluate_hybrid([1.0, 5.0, 7.0], x0=5.0, y0=2.0, gradient=1.0).tolist()
    [2.0, 2.0, 4.0]
    """
    values = np.asarray(x, dtype=np.float64)
    intercept = y0 - gradient * x0

    result = np.multiply(values, gradient, out=np.empty_like(values))
    result += intercept
    # NaN < x0 is False, so NaN rows keep the NaN of the linear segment.
    np.copyto(result, y0, where=values < x0)
    return result


def segment_hybrid(x: npt.ArrayLike, *, x0: float, y0: float, gradient: float) -> npt.NDArray[np.int64]:
    """Label each value with its segment: 0 constant (x < x0), 1 linear (x >= x0), -1 NaN."""
    values = np.asarray(x, dtype=np.float64)
    labels = np.where(values < x0, 0, 1).astype(np.int64)
    labels[np.isnan(values)] = -1
    return labels


def _golden_cases(params: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
    x0, y0, gradient = params["x0"], params["y0"], params["gradient"]
    return (
        GoldenCase(x=x0 - 1.0, expected=y0),
        GoldenCase(x=x0, expected=y0),
        GoldenCase(x=x0 + 1.0, expected=y0 + gradient),
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
)
