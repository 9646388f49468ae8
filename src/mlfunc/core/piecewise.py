"""Piecewise polynomial functions of one column, kept as data.

A piecewise function has N sorted breakpoints and N + 1 segments. Segment
``i`` covers ``breakpoints[i - 1] <= x < breakpoints[i]``, so like the hybrid
function a value equal to a breakpoint belongs to the segment on its right.
Each segment is a polynomial in x given by its coefficients, constant term
first: ``[a0]``, ``[a0, a1]`` or ``[a0, a1, a2]``.

Every segment is evaluated by Horner's rule in IEEE double precision, in
exactly this order, so that a SQL translation can reproduce it bit for bit:
``a0`` for a constant, ``a1 * x + a0`` for a line and ``(a2 * x + a1) * x + a0``
for a quadratic. Coefficients are used as given, so a trailing zero still
multiplies x (``0 * inf`` is NaN, as in the hybrid function).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from mlfunc.core.function import BusinessFunction, Column, FloatArray, GoldenCase, reject_combination
from mlfunc.core.parameters import Parameter
from mlfunc.core.sql import SqlWriter

Outside = Literal["extend", "clamp", "null"]
MAX_DEGREE = 2
# Two segments meet at a breakpoint when their values there differ by at most
# this much relative to the larger value (absolute below 1).
CONTINUITY_TOLERANCE = 1e-9


def horner(coefficients: Sequence[float], x: Any) -> Any:
    """Evaluate the polynomial with ``coefficients`` (constant term first) at ``x`` by Horner's rule."""
    if len(coefficients) == 1:
        # A constant does not depend on x, even for an infinite x.
        return np.full(np.shape(x), coefficients[0], dtype=np.float64) if np.ndim(x) else float(coefficients[0])
    result: Any = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        result = result * x + coefficient
    return result


@dataclass(frozen=True)
class PiecewisePolynomial:
    """Breakpoints, one coefficient list per segment, and what to do outside the domain.

    ``outside`` decides the output for x below ``domain_min`` or above
    ``domain_max``: ``extend`` evaluates the end segments there, ``clamp``
    evaluates at the nearest domain bound, and ``null`` returns NaN.
    """

    breakpoints: tuple[float, ...]
    segments: tuple[tuple[float, ...], ...]
    continuous: bool = False
    domain_min: float | None = None
    domain_max: float | None = None
    outside: Outside = "extend"

    def _effective_x(self, x: FloatArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        # Returns the x each row is evaluated at and which rows are outside a
        # "null" domain.
        low = -np.inf if self.domain_min is None else self.domain_min
        high = np.inf if self.domain_max is None else self.domain_max
        if self.outside == "clamp":
            # Written out rather than np.clip, so that the SQL translation's
            # CASE WHEN x < low THEN low ... is the same rule by construction.
            clamped = np.where(x < low, low, np.where(x > high, high, x))
            return clamped, np.zeros(x.shape, dtype=bool)
        if self.outside == "null":
            return x, (x < low) | (x > high)
        return x, np.zeros(x.shape, dtype=bool)

    def segment(self, x: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Return each row's segment index, or -1 for NaN input and for rows outside a ``null`` domain."""
        values = np.asarray(x, dtype=np.float64)
        effective, dropped = self._effective_x(values)
        labels = np.searchsorted(np.asarray(self.breakpoints, dtype=np.float64), effective, side="right")
        labels = labels.astype(np.int64)
        labels[np.isnan(values) | dropped] = -1
        return labels

    def evaluate(self, x: npt.ArrayLike) -> FloatArray:
        """Evaluate every row on its segment's polynomial, without a Python loop over rows."""
        values = np.asarray(x, dtype=np.float64)
        effective, _ = self._effective_x(values)
        labels = self.segment(values)
        result = np.full(values.shape, np.nan, dtype=np.float64)
        # Overflow to inf and 0 * inf = NaN are the documented IEEE results,
        # as in the hybrid function, not something to warn about.
        with np.errstate(over="ignore", invalid="ignore"):
            for index, coefficients in enumerate(self.segments):
                rows = labels == index
                if rows.any():
                    result[rows] = horner(coefficients, effective[rows])
        return result


def evaluate_piecewise(x: npt.ArrayLike, **parameters: Any) -> FloatArray:
    """Evaluate the piecewise function with validated ``parameters`` on every element of ``x``.

    >>> evaluate_piecewise([1.0, 5.0, 7.0], breakpoints=(5.0,), segments=((2.0,), (-3.0, 1.0))).tolist()
    [2.0, 2.0, 4.0]
    """
    return PiecewisePolynomial(**parameters).evaluate(x)


def segment_piecewise(x: npt.ArrayLike, **parameters: Any) -> npt.NDArray[np.int64]:
    """Label each value with the index of its segment, -1 for NaN or a nulled value outside the domain."""
    return PiecewisePolynomial(**parameters).segment(x)


def check_piecewise(function: str, parameters: Mapping[str, Any]) -> None:
    """Raise ParameterError unless breakpoints, segments and domain fit together."""
    breakpoints: tuple[float, ...] = parameters["breakpoints"]
    segments: tuple[tuple[float, ...], ...] = parameters["segments"]

    for index in range(1, len(breakpoints)):
        previous, current = breakpoints[index - 1], breakpoints[index]
        if current == previous:
            reject_combination(
                function,
                "breakpoints",
                f"breakpoint {current!r} appears twice (positions {index - 1} and {index}): "
                "remove the duplicate, as each breakpoint starts one segment",
            )
        if current < previous:
            reject_combination(
                function,
                "breakpoints",
                f"breakpoints must be in increasing order, but {current!r} at position {index} "
                f"follows {previous!r}: sort them, and the segments with them",
            )

    if len(segments) != len(breakpoints) + 1:
        reject_combination(
            function,
            "segments",
            f"expected {len(breakpoints) + 1} segments (one more than the {len(breakpoints)} breakpoints), "
            f"got {len(segments)}",
        )
    for index, coefficients in enumerate(segments):
        if not 1 <= len(coefficients) <= MAX_DEGREE + 1:
            reject_combination(
                function,
                "segments",
                f"segment {index} has {len(coefficients)} coefficients {list(coefficients)!r}: expected 1 to "
                f"{MAX_DEGREE + 1} (constant term first: constant, linear or quadratic)",
            )

    _check_domain(function, parameters)
    if parameters["continuous"]:
        _check_continuity(function, breakpoints, segments)


def _check_domain(function: str, parameters: Mapping[str, Any]) -> None:
    low, high = parameters["domain_min"], parameters["domain_max"]
    if low is not None and high is not None and low >= high:
        reject_combination(function, "domain_max", f"domain_max {high!r} must be greater than domain_min {low!r}")
    if parameters["outside"] != "extend" and low is None and high is None:
        reject_combination(
            function,
            "outside",
            f"outside = {parameters['outside']!r} needs a domain: set domain_min, domain_max or both",
        )


def _check_continuity(function: str, breakpoints: Sequence[float], segments: Sequence[Sequence[float]]) -> None:
    for index, breakpoint in enumerate(breakpoints):
        left = float(horner(segments[index], breakpoint))
        right = float(horner(segments[index + 1], breakpoint))
        gap = right - left
        if abs(gap) > CONTINUITY_TOLERANCE * max(1.0, abs(left), abs(right)):
            reject_combination(
                function,
                "segments",
                f"segments {index} and {index + 1} do not meet at breakpoint x={breakpoint!r}: "
                f"the left segment gives {left!r}, the right one {right!r}, a gap of {gap!r}; "
                "fix the coefficients or set continuous = false",
            )


def _golden_cases(parameters: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
    # Each breakpoint, and a point beyond each end, computed by scalar Horner
    # on the segment chosen here, not by the vectorised search.
    model = PiecewisePolynomial(**parameters)
    edges = model.breakpoints or (0.0,)
    points = [edges[0] - 1.0, *model.breakpoints, edges[-1] + 1.0]
    cases = []
    for x in points:
        effective = x
        if model.outside != "extend":
            low = -np.inf if model.domain_min is None else model.domain_min
            high = np.inf if model.domain_max is None else model.domain_max
            if model.outside == "null" and not low <= x <= high:
                cases.append(GoldenCase(x=x, expected=float("nan")))
                continue
            effective = min(max(x, low), high)
        index = sum(1 for breakpoint in model.breakpoints if effective >= breakpoint)
        cases.append(GoldenCase(x=x, expected=float(horner(model.segments[index], effective))))
    return tuple(cases)


def piecewise_sql(parameters: Mapping[str, Any], sql: SqlWriter) -> str:
    """Write the piecewise function as a SQL CASE expression, one branch per segment.

    Null and NaN rows return their input, as numpy returns NaN for both. A
    clamped row's value is a constant, computed here by the same Horner steps.
    """
    model = PiecewisePolynomial(**parameters)
    x = sql.column("x")
    branches = [f"WHEN {sql.is_null_or_nan(x)} THEN {x}"]
    branches += _outside_branches(model, x, sql)
    for breakpoint, coefficients in zip(model.breakpoints, model.segments, strict=False):
        branches.append(f"WHEN {x} < {sql.number(breakpoint)} THEN {_horner_sql(coefficients, x, sql)}")
    last = _horner_sql(model.segments[-1], x, sql)
    return "CASE " + " ".join(branches) + f" ELSE {last} END"


def _outside_branches(model: PiecewisePolynomial, x: str, sql: SqlWriter) -> list[str]:
    bounds = ((model.domain_min, "<"), (model.domain_max, ">"))
    present = [(bound, operator) for bound, operator in bounds if bound is not None]
    if model.outside == "null":
        outside = " OR ".join(f"{x} {operator} {sql.number(bound)}" for bound, operator in present)
        return [f"WHEN {outside} THEN {sql.number(math.nan)}"]
    if model.outside == "clamp":
        return [
            f"WHEN {x} {operator} {sql.number(bound)} THEN {sql.number(_value_at(model, bound))}"
            for bound, operator in present
        ]
    return []


def _value_at(model: PiecewisePolynomial, x: float) -> float:
    # The segment numpy's searchsorted(side="right") picks: one per breakpoint <= x.
    index = sum(1 for breakpoint in model.breakpoints if x >= breakpoint)
    return float(horner(model.segments[index], x))


def _horner_sql(coefficients: Sequence[float], x: str, sql: SqlWriter) -> str:
    # The same steps as horner(): a0 alone, or (a2 * x + a1) * x + a0.
    literals = [sql.number(coefficient) for coefficient in reversed(coefficients)]
    text = literals[0]
    for literal in literals[1:]:
        if " " in text:
            text = f"({text})"
        text = f"{text} * {x} + {literal}"
    return text


def _plot_breakpoints(parameters: Mapping[str, Any]) -> tuple[float, ...]:
    return tuple(parameters["breakpoints"])


PIECEWISE = BusinessFunction(
    name="piecewise",
    description="a polynomial of degree 0 to 2 on each interval between sorted breakpoints",
    parameters=(
        Parameter("breakpoints", "x values where a new segment starts, increasing", type="number_list"),
        Parameter(
            "segments",
            "coefficients of each segment's polynomial in x, constant term first, one list per segment",
            type="number_table",
        ),
        Parameter(
            "continuous",
            "reject segments that do not meet at their breakpoint",
            type="boolean",
            default=False,
        ),
        Parameter("domain_min", "lowest x the function is declared for", default=None),
        Parameter("domain_max", "highest x the function is declared for", default=None),
        Parameter(
            "outside",
            "output for x outside the domain: extend the end segments, clamp x to the domain, or null",
            type="text",
            options=("extend", "clamp", "null"),
            default="extend",
        ),
    ),
    inputs=(Column("x", "double", "the value the function is applied to"),),
    outputs=(Column("y", "double", "the function's output"),),
    evaluate=evaluate_piecewise,
    golden_cases=_golden_cases,
    segment=segment_piecewise,
    breakpoints=_plot_breakpoints,
    check=check_piecewise,
    sql=piecewise_sql,
)
