"""The declaration of a business function: its inputs, outputs and parameters."""

from __future__ import annotations

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
    """An input value and the output every version of the function must give for it."""

    x: float
    expected: float


@dataclass(frozen=True)
class BusinessFunction:
    """A vectorised function of one column with named, validated parameters.

    ``evaluate`` takes a float64 array and the validated parameters as keyword
    arguments, and returns a new float64 array of the same shape. It must not
    modify its input.
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    input: Column
    output: Column
    evaluate: Callable[..., FloatArray]
    golden_cases: Callable[[Mapping[str, float]], tuple[GoldenCase, ...]] = field(default=lambda params: ())
    plot_domain: tuple[float, float] = (-10.0, 10.0)

    def validate(self, values: Mapping[str, object]) -> dict[str, float]:
        """Return the parameters as floats, or raise ParameterError naming the bad one."""
        return validate_parameters(self.name, self.parameters, values)

    def __call__(self, x: npt.ArrayLike, **params: object) -> FloatArray:
        """Validate ``params`` and evaluate the function on ``x``."""
        return self.evaluate(np.asarray(x, dtype=np.float64), **self.validate(params))
