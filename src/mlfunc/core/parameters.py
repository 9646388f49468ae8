"""Typed declarations of business function parameters and their validation.

A :class:`Parameter` is declared once per function. Validation, error
messages, CLI options and the MLflow model config are all derived from it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from mlfunc.errors import ParameterError

# Names that the model config uses for its own keys, so no parameter may take them.
RESERVED_NAMES = frozenset({"function"})


@dataclass(frozen=True)
class Parameter:
    """A named, real-valued parameter of a business function.

    ``minimum`` and ``maximum`` are inclusive bounds. ``None`` leaves that side
    open, but the value must always be a finite number.
    """

    name: str
    description: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name in RESERVED_NAMES:
            raise ValueError(f"invalid parameter name {self.name!r}: use a Python identifier other than 'function'")

    def expected(self) -> str:
        """Describe the accepted values in words, for error and help messages."""
        if self.minimum is not None and self.maximum is not None:
            return f"a finite number from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f"a finite number >= {self.minimum:g}"
        if self.maximum is not None:
            return f"a finite number <= {self.maximum:g}"
        return "a finite number"

    def validate(self, value: object, *, function: str) -> float:
        """Return ``value`` as a float, or raise :class:`ParameterError` naming this parameter."""
        # bool is an int subclass, but True as a breakpoint is almost surely a mistake.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self._reject(value, function)
        number = float(value)  # type: ignore[arg-type]  # numbers.Real has __float__
        if not math.isfinite(number):
            self._reject(value, function)
        if self.minimum is not None and number < self.minimum:
            self._reject(value, function)
        if self.maximum is not None and number > self.maximum:
            self._reject(value, function)
        return number

    def _reject(self, value: object, function: str) -> None:
        unit = f", in {self.unit}" if self.unit else ""
        raise ParameterError(
            f"invalid parameter {self.name!r} of function {function!r} ({self.description}{unit}): "
            f"expected {self.expected()}, got {value!r}",
            function=function,
            parameter=self.name,
        )


def validate_parameters(
    function: str, declared: tuple[Parameter, ...], values: Mapping[str, object]
) -> dict[str, float]:
    """Check ``values`` against the declared parameters and return them as floats.

    Raises :class:`ParameterError` for an unknown name, a missing name or an
    invalid value, naming the parameter and listing the declared ones.
    """
    names = [parameter.name for parameter in declared]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for function {function!r}: expected only {', '.join(names)}",
            function=function,
            parameter=unknown[0],
        )

    missing = [name for name in names if name not in values]
    if missing:
        raise ParameterError(
            f"missing parameter {missing[0]!r} for function {function!r}: "
            f"every one of {', '.join(names)} needs a value",
            function=function,
            parameter=missing[0],
        )

    return {parameter.name: parameter.validate(values[parameter.name], function=function) for parameter in declared}
