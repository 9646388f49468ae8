"""Typed declarations of business function parameters and their validation.

A :class:`Parameter` is declared once per function. Validation, error
messages, CLI options and the MLflow model config are all derived from it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from mlfunc.errors import ParameterError

# Names that the model config uses for its own keys, so no parameter may take them.
RESERVED_NAMES = frozenset({"function", "explain"})

# The kinds of value a parameter can hold. "number_list" is a list of finite
# numbers (breakpoints), "number_table" a list of such lists (segment
# coefficients), "table" a mapping of names to values and "records" a list
# of tables (decision-table rows).
ParameterType = Literal["number", "integer", "boolean", "text", "number_list", "number_table", "table", "records"]

# The parameter types that a model config stores as JSON text, because MLflow
# logs the config as flat run params.
STRUCTURED_TYPES = frozenset({"number_list", "number_table", "table", "records"})


class _Required:
    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()


@dataclass(frozen=True)
class Parameter:
    """A named, typed parameter of a business function.

    ``minimum`` and ``maximum`` are inclusive bounds on a number, an integer
    or every number of a list. ``None`` leaves that side open, but numbers
    must always be finite. ``options`` lists the allowed texts of a ``text``
    parameter. A parameter without a ``default`` must be given a value.
    """

    name: str
    description: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    type: ParameterType = "number"
    options: tuple[str, ...] = ()
    default: Any = REQUIRED

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name in RESERVED_NAMES:
            raise ValueError(
                f"invalid parameter name {self.name!r}: use a Python identifier other than 'function' or 'explain'"
            )
        if self.options and self.type != "text":
            raise ValueError(f"parameter {self.name!r}: options apply only to type 'text', not {self.type!r}")

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    @property
    def structured(self) -> bool:
        return self.type in STRUCTURED_TYPES

    def expected(self) -> str:
        """Describe the accepted values in words, for error and help messages."""
        if self.type == "boolean":
            return "true or false"
        if self.type == "text":
            return "one of " + ", ".join(map(repr, self.options)) if self.options else "a text"
        if self.type == "records":
            return "a list of tables"
        if self.type == "table":
            return "a table of names and values"
        noun = "a whole number" if self.type == "integer" else "a finite number"
        bounds = self._bounds()
        if self.type == "number_list":
            return f"a list of finite numbers{' each ' + bounds if bounds else ''}"
        if self.type == "number_table":
            return f"a list of lists of finite numbers{' each ' + bounds if bounds else ''}"
        return f"{noun}{' ' + bounds if bounds else ''}"

    def _bounds(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"from {self.minimum:g} to {self.maximum:g}"
        if self.minimum is not None:
            return f">= {self.minimum:g}"
        if self.maximum is not None:
            return f"<= {self.maximum:g}"
        return ""

    def validate(self, value: object, *, function: str) -> Any:
        """Return ``value`` in its canonical Python type, or raise :class:`ParameterError` naming this parameter.

        Numbers become floats, integers ints, lists of numbers tuples of
        floats and records a tuple of dicts. None is accepted only where it
        is the default, meaning "not set".
        """
        if value is None and self.default is None:
            return None
        if self.type == "number":
            return self._number(value, value, function)
        if self.type == "integer":
            number = self._number(value, value, function)
            if not number.is_integer():
                self.reject(value, function)
            return int(number)
        if self.type == "boolean":
            if not isinstance(value, bool):
                self.reject(value, function)
            return value
        if self.type == "text":
            if not isinstance(value, str) or (self.options and value not in self.options):
                self.reject(value, function)
            return value
        if self.type == "number_list":
            return self._numbers(value, value, function)
        if self.type == "table":
            if not isinstance(value, Mapping):
                self.reject(value, function)
            return dict(value)  # type: ignore[call-overload]  # a Mapping, checked above
        if not isinstance(value, list | tuple) or not value:
            self.reject(value, function)
        rows: list[Any] | tuple[Any, ...] = value  # type: ignore[assignment]  # narrowed by the check above
        if self.type == "number_table":
            return tuple(self._numbers(row, value, function) for row in rows)
        if not all(isinstance(row, Mapping) for row in rows):
            self.reject(value, function)
        return tuple(dict(row) for row in rows)

    def _number(self, value: object, whole: object, function: str) -> float:
        # bool is an int subclass, but True as a breakpoint is almost surely a mistake.
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            self.reject(whole, function)
        number = float(value)  # type: ignore[arg-type]  # numbers.Real has __float__
        if not math.isfinite(number):
            self.reject(whole, function)
        if self.minimum is not None and number < self.minimum:
            self.reject(whole, function)
        if self.maximum is not None and number > self.maximum:
            self.reject(whole, function)
        return number

    def _numbers(self, value: object, whole: object, function: str) -> tuple[float, ...]:
        if not isinstance(value, list | tuple):
            self.reject(whole, function)
            return ()
        return tuple(self._number(item, whole, function) for item in value)

    def reject(self, value: object, function: str, *, reason: str | None = None) -> None:
        """Raise :class:`ParameterError` for ``value``, saying what this parameter accepts."""
        unit = f", in {self.unit}" if self.unit else ""
        expected = reason or f"expected {self.expected()}"
        raise ParameterError(
            f"invalid parameter {self.name!r} of function {function!r} ({self.description}{unit}): "
            f"{expected}, got {value!r}",
            function=function,
            parameter=self.name,
        )


def validate_parameters(function: str, declared: tuple[Parameter, ...], values: Mapping[str, object]) -> dict[str, Any]:
    """Check ``values`` against the declared parameters and return them in canonical types.

    Raises :class:`ParameterError` for an unknown name, a missing name or an
    invalid value, naming the parameter and listing the declared ones.
    Parameters with a default may be left out.
    """
    names = [parameter.name for parameter in declared]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ParameterError(
            f"unknown parameter {unknown[0]!r} for function {function!r}: expected only {', '.join(names)}",
            function=function,
            parameter=unknown[0],
        )

    missing = [parameter.name for parameter in declared if parameter.required and parameter.name not in values]
    if missing:
        required = [parameter.name for parameter in declared if parameter.required]
        raise ParameterError(
            f"missing parameter {missing[0]!r} for function {function!r}: "
            f"every one of {', '.join(required)} needs a value",
            function=function,
            parameter=missing[0],
        )

    return {
        parameter.name: (
            parameter.validate(values[parameter.name], function=function)
            if parameter.name in values
            else parameter.default
        )
        for parameter in declared
    }
