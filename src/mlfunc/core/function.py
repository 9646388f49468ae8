"""The declaration of a business function: its inputs, outputs and parameters."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from mlfunc.core.parameters import Parameter, validate_parameters

FloatArray = npt.NDArray[np.float64]
ColumnType = Literal["double"]


@dataclass(frozen=True)
class Column:
    """A named input or output column of a business function."""

    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True)
class GoldenCase:
    """An input value and the output a version must give for it, within an absolute tolerance."""

    x: float
    expected: float
    tolerance: float = 0.0

    def passes(self, actual: float) -> bool:
        """Return whether ``actual`` matches ``expected``, treating NaN as equal to NaN."""
        if math.isnan(self.expected) or math.isnan(actual):
            return math.isnan(self.expected) and math.isnan(actual)
        return abs(actual - self.expected) <= self.tolerance


@dataclass(frozen=True)
class BusinessFunction:
    """A vectorised function of one column with named, validated parameters.

    ``evaluate`` takes a float64 array and the validated parameters as keyword
    arguments, and returns a new float64 array of the same shape. It must not
    modify its input. ``segment`` returns, for each input value, the index of
    the segment that produced its output (-1 for NaN input), and
    ``breakpoints`` the x values where segments start, for reports and plots.
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    input: Column
    output: Column
    evaluate: Callable[..., FloatArray]
    golden_cases: Callable[[Mapping[str, float]], tuple[GoldenCase, ...]] = field(default=lambda params: ())
    plot_domain: tuple[float, float] = (-10.0, 10.0)
    segment: Callable[..., npt.NDArray[np.int64]] | None = None
    breakpoints: Callable[[Mapping[str, float]], tuple[float, ...]] = field(default=lambda params: ())

    def validate(self, values: Mapping[str, object]) -> dict[str, float]:
        """Return the parameters as floats, or raise ParameterError naming the bad one."""
        return validate_parameters(self.name, self.parameters, values)

    def __call__(self, x: npt.ArrayLike, **params: object) -> FloatArray:
        """Validate ``params`` and evaluate the function on ``x``."""
        return self.evaluate(np.asarray(x, dtype=np.float64), **self.validate(params))
