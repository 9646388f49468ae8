"""The declaration of a business function: its inputs, outputs and parameters.

A business function is a plain vectorised Python function plus one
:class:`BusinessFunction` declaration. mlfunc derives the model signature,
the validation messages and the CLI options from the declaration::

    >>> from mlfunc.core import Column, Parameter, business_function
    >>> @business_function(
    ...     description="a fixed fee plus a price per kilogram",
    ...     inputs=(Column("weight", "double", "parcel weight in kg"),),
    ...     outputs=(Column("cost", "double", "shipping cost in EUR"),),
    ...     parameters=(Parameter("fee", "fixed fee", unit="EUR"), Parameter("per_kg", "price per kg")),
    ... )
    ... def shipping(weight, *, fee, per_kg):
    ...     return fee + per_kg * weight
    >>> shipping([1.0, 2.0], fee=3, per_kg=0.5).tolist()
    [3.5, 4.0]
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from mlfunc.core.parameters import Parameter, validate_parameters
from mlfunc.errors import InputDataError, ParameterError

if TYPE_CHECKING:
    from mlfunc.core.sql import SqlWriter

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]
# "double" columns reach the function as float64 arrays with NaN for nulls,
# "string" columns as object arrays with None for nulls. A "decimal" output,
# such as a price, is a float64 array in Python rounded to ``scale`` digits,
# and a DECIMAL(precision, scale) in SQL.
ColumnType = Literal["double", "string", "decimal"]
COLUMN_TYPES: tuple[ColumnType, ...] = ("double", "string", "decimal")
MAX_DECIMAL_PRECISION = 38


@dataclass(frozen=True)
class Column:
    """A named input or output column of a business function.

    ``precision`` and ``scale`` apply to a ``decimal`` column only: its
    digits in all, and after the decimal point.
    """

    name: str
    type: ColumnType
    description: str
    precision: int | None = None
    scale: int | None = None

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ValueError(f"invalid column name {self.name!r}: use a Python identifier")
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: type must be one of {COLUMN_TYPES}, not {self.type!r}")
        if self.type != "decimal" and (self.precision, self.scale) != (None, None):
            raise ValueError(f"column {self.name!r}: precision and scale apply to decimal columns only")
        if self.type == "decimal" and not (
            self.precision is not None
            and self.scale is not None
            and 1 <= self.precision <= MAX_DECIMAL_PRECISION
            and 0 <= self.scale <= self.precision
        ):
            raise ValueError(
                f"decimal column {self.name!r} needs 1 <= precision <= {MAX_DECIMAL_PRECISION} and "
                f"0 <= scale <= precision, got precision={self.precision!r}, scale={self.scale!r}"
            )

    @property
    def numeric(self) -> bool:
        """Whether the column's values are numbers: float64 arrays in Python."""
        return self.type != "string"

    def rounded(self, value: float) -> float:
        """Round ``value`` to a decimal column's scale, half away from zero, from its shortest digits.

        The shortest digits that read back as the double (``repr``) are what
        Spark rounds too, so 2.675 rounds to 2.68 although the double is a
        little below 2.675. Raises ValueError for a value with too many digits.
        """
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        exact = Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-(self.scale or 0)), rounding=ROUND_HALF_UP)
        if exact.adjusted() >= (self.precision or 0) - (self.scale or 0):
            raise ValueError(f"{value!r} has more than {self.precision} digits with {self.scale} after the point")
        # SQL's DECIMAL has no negative zero, so -0.00 becomes 0.0.
        return float(exact) + 0.0

    @property
    def schema_type(self) -> str:
        """The column's type in an MLflow signature, which has no decimal type."""
        return "string" if self.type == "string" else "double"


@dataclass(frozen=True)
class GoldenCase:
    """An input and the output a version must give for it, within an absolute tolerance.

    For a function of one column, ``x`` is that column's value and
    ``expected`` the first output's value. Otherwise ``x`` maps input column
    names to values and ``expected`` may map output column names to values.
    """

    x: Any
    expected: Any
    tolerance: float = 0.0

    def inputs(self, columns: Sequence[Column]) -> dict[str, Any]:
        """Return the case's input as one value per input column."""
        if isinstance(self.x, Mapping):
            return dict(self.x)
        return {columns[0].name: self.x}

    def expected_outputs(self, columns: Sequence[Column]) -> dict[str, Any]:
        """Return the expected output as one value per checked output column."""
        if isinstance(self.expected, Mapping):
            return dict(self.expected)
        return {columns[0].name: self.expected}

    def passes(self, actual: Any) -> bool:
        """Return whether ``actual`` matches ``expected``, treating NaN as equal to NaN.

        ``actual`` is one value, or a mapping of output column to value when
        ``expected`` is a mapping.
        """
        if isinstance(self.expected, Mapping):
            return isinstance(actual, Mapping) and all(
                key in actual and self._matches(value, actual[key]) for key, value in self.expected.items()
            )
        return self._matches(self.expected, actual)

    def _matches(self, expected: Any, actual: Any) -> bool:
        if isinstance(expected, str) or isinstance(actual, str) or expected is None or actual is None:
            return bool(expected == actual)
        if math.isnan(expected) or math.isnan(actual):
            return math.isnan(expected) and math.isnan(actual)
        return bool(abs(actual - expected) <= self.tolerance)


def _no_golden_cases(params: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
    return ()


def _no_breakpoints(params: Mapping[str, Any]) -> tuple[float, ...]:
    return ()


@dataclass(frozen=True)
class BusinessFunction:
    """A vectorised function of one or more columns with named, validated parameters.

    ``evaluate`` takes one array per input column, in declaration order, and
    the validated parameters as keyword arguments. It returns a new array for
    a single output, or a mapping from output column name to array. It must
    not modify its inputs. ``segment`` returns, for each row, the index of the
    segment or rule that produced its output (-1 for null input), and
    ``explain`` a text label per row saying why. ``breakpoints`` are the x
    values where segments start, for reports and plots. ``check`` validates
    the parameters together (for example that breakpoints are sorted) and
    raises :class:`ParameterError`. ``sql`` writes the function for one set
    of parameters as a SQL expression per output column, through the
    :class:`~mlfunc.core.sql.SqlWriter` it is given (see :mod:`mlfunc.core.sql`).
    ``reference`` is the ``module:attribute``
    the function was loaded from, or None for a function that ships with mlfunc.
    """

    name: str
    description: str
    parameters: tuple[Parameter, ...]
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    evaluate: Callable[..., Any]
    golden_cases: Callable[[Mapping[str, Any]], tuple[GoldenCase, ...]] = field(default=_no_golden_cases)
    plot_domain: tuple[float, float] = (-10.0, 10.0)
    segment: Callable[..., npt.NDArray[np.int64]] | None = None
    breakpoints: Callable[[Mapping[str, Any]], tuple[float, ...]] = field(default=_no_breakpoints)
    check: Callable[[str, Mapping[str, Any]], None] | None = None
    explain: Callable[..., ObjectArray] | None = None
    sql: Callable[[Mapping[str, Any], SqlWriter], str | Mapping[str, str]] | None = None
    reference: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not self.inputs or not self.outputs:
            raise ValueError(f"function {self.name!r} needs at least one input and one output column")
        if any(column.type == "decimal" for column in self.inputs):
            raise ValueError(f"function {self.name!r}: decimal is an output type; declare inputs as double")
        names = [column.name for column in (*self.inputs, *self.outputs)]
        if len(set(names)) != len(names):
            raise ValueError(f"function {self.name!r}: input and output column names must be distinct, got {names}")

    @property
    def input(self) -> Column:
        """The first input column, the only one of a single-input function."""
        return self.inputs[0]

    @property
    def output(self) -> Column:
        """The first output column, the only one of a single-output function."""
        return self.outputs[0]

    @property
    def is_curve(self) -> bool:
        """Whether the function maps one double column to one double column, so it can be plotted."""
        return len(self.inputs) == len(self.outputs) == 1 and self.input.type == self.output.type == "double"

    def validate(self, values: Mapping[str, object]) -> dict[str, Any]:
        """Return the parameters in canonical types, or raise ParameterError naming the bad one."""
        parameters = validate_parameters(self.name, self.parameters, values)
        if self.check is not None:
            self.check(self.name, parameters)
        return parameters

    def __call__(self, *columns: npt.ArrayLike, **params: object) -> Any:
        """Validate ``params`` and evaluate the function on one array per input column."""
        arrays = [_column_array(column, values) for column, values in zip(self.inputs, columns, strict=True)]
        return self.evaluate(*arrays, **self.validate(params))

    def evaluate_frame(
        self, frame: pd.DataFrame, parameters: Mapping[str, Any], *, explain: bool = False
    ) -> pd.DataFrame:
        """Evaluate validated ``parameters`` on the input columns of ``frame`` and return the output columns.

        With ``explain``, an extra text column ``explanation`` names which
        segment or rule produced each row.
        """
        arrays = input_arrays(self, frame)
        result = self.evaluate(*arrays, **parameters)
        outputs = result if isinstance(result, Mapping) else {self.output.name: result}
        table = pd.DataFrame({column.name: outputs[column.name] for column in self.outputs}, index=frame.index)
        if explain:
            table[EXPLANATION_COLUMN] = self.explanations(arrays, parameters)
        return table

    def explanations(self, arrays: Sequence[Any], parameters: Mapping[str, Any]) -> ObjectArray:
        """Return, per row, the label of the segment or rule that produced the output."""
        if self.explain is not None:
            return self.explain(*arrays, **parameters)
        if self.segment is not None:
            labels = self.segment(*arrays, **parameters)
            return segment_labels(labels, self.input.name, self.breakpoints(parameters))
        rows = len(arrays[0])
        return np.full(rows, self.name, dtype=object)


EXPLANATION_COLUMN = "explanation"


def describe_arguments(values: Mapping[str, Any]) -> str:
    """Format parameters as ``name=value`` pairs: numbers with %g, everything else as JSON."""
    return ", ".join(
        f"{key}={value:g}" if isinstance(value, float) else f"{key}={json.dumps(value)}"
        for key, value in values.items()
    )


def segment_labels(labels: npt.NDArray[np.int64], column: str, breakpoints: Sequence[float]) -> ObjectArray:
    """Describe each segment index as the interval of ``column`` it covers, None for -1."""
    names: list[str | None] = []
    edges = list(breakpoints)
    for index in range(len(edges) + 1):
        if not edges:
            names.append(f"segment 0: all {column}")
        elif index == 0:
            names.append(f"segment 0: {column} < {edges[0]:g}")
        elif index == len(edges):
            names.append(f"segment {index}: {column} >= {edges[-1]:g}")
        else:
            names.append(f"segment {index}: {edges[index - 1]:g} <= {column} < {edges[index]:g}")
    lookup = np.array([*names, None], dtype=object)
    return lookup[np.where(labels < 0, len(names), labels)]


def _column_array(column: Column, values: Any) -> Any:
    if column.type == "double":
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values, dtype=object)


def input_arrays(function: BusinessFunction, frame: pd.DataFrame) -> list[Any]:
    """Return one array per input column of ``function`` from ``frame``, converted to its declared type.

    A single-input function also accepts a frame with one unnamed column.
    Raises InputDataError naming a missing column.
    """
    arrays = []
    for column in function.inputs:
        if column.name in frame.columns:
            series = frame[column.name]
        elif len(function.inputs) == 1 and len(frame.columns) == 1:
            series = frame.iloc[:, 0]
        else:
            available = ", ".join(repr(str(name)) for name in frame.columns)
            raise InputDataError(
                f"input column {column.name!r} of function {function.name!r} not found: "
                f"available columns are {available}"
            )
        if column.type == "double":
            arrays.append(series.to_numpy(dtype=np.float64, na_value=np.nan))
        else:
            text = series.to_numpy(dtype=object)
            text[series.isna().to_numpy()] = None
            arrays.append(text)
    return arrays


def business_function(
    *,
    description: str,
    inputs: tuple[Column, ...],
    outputs: tuple[Column, ...],
    parameters: tuple[Parameter, ...] = (),
    name: str | None = None,
    golden_cases: Sequence[GoldenCase] | Callable[[Mapping[str, Any]], tuple[GoldenCase, ...]] = (),
    plot_domain: tuple[float, float] = (-10.0, 10.0),
    check: Callable[[str, Mapping[str, Any]], None] | None = None,
    explain: Callable[..., ObjectArray] | None = None,
    sql: Callable[[Mapping[str, Any], SqlWriter], str | Mapping[str, str]] | None = None,
) -> Callable[[Callable[..., Any]], BusinessFunction]:
    """Turn a vectorised Python function into a :class:`BusinessFunction` with this declaration.

    ``golden_cases`` is a fixed list, or a function of the validated
    parameters that returns the cases. ``name`` defaults to the Python
    function's name.
    """

    def declare(evaluate: Callable[..., Any]) -> BusinessFunction:
        cases = golden_cases if callable(golden_cases) else _fixed_cases(tuple(golden_cases))
        return BusinessFunction(
            name=name or evaluate.__name__,
            description=description,
            parameters=parameters,
            inputs=inputs,
            outputs=outputs,
            evaluate=evaluate,
            golden_cases=cases,
            plot_domain=plot_domain,
            check=check,
            explain=explain,
            sql=sql,
        )

    return declare


def _fixed_cases(cases: tuple[GoldenCase, ...]) -> Callable[[Mapping[str, Any]], tuple[GoldenCase, ...]]:
    def fixed(params: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
        return cases

    return fixed


def reject_combination(function: str, parameter: str, message: str) -> None:
    """Raise ParameterError for a problem that spans parameters, naming the one to fix."""
    raise ParameterError(
        f"invalid parameter {parameter!r} of function {function!r}: {message}", function=function, parameter=parameter
    )
