"""Decision tables: rules over several input columns, kept as data.

A rule has conditions on some input columns and the output values it
gives. A condition on a column is one of:

- a range ``{min = 10, max = 100}``, closed on the left like the piecewise
  intervals (``10 <= x < 100``), either bound optional;
- a value (``tier = "gold"`` or ``quantity = 5``), matched by equality;
- a list of values (``tier = ["gold", "silver"]``), matched by membership;
- ``"any"``, or no condition on that column, which matches every row.

With the ``first`` hit policy the first matching rule gives the output, so
rules may overlap but a rule that an earlier one covers entirely can never
match and is rejected. With the ``unique`` policy no two rules may overlap.
Rows no rule matches get the required ``default``. Null input matches only
``"any"``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mlfunc.core.function import BusinessFunction, Column, GoldenCase, ObjectArray, reject_combination
from mlfunc.core.parameters import Parameter
from mlfunc.core.sql import SqlWriter

ANY = "any"
HitPolicy = Literal["first", "unique"]


@dataclass(frozen=True)
class Condition:
    """One column's condition: every value, a half-open range, or a set of values."""

    kind: Literal["any", "range", "values"]
    low: float = -math.inf
    high: float = math.inf
    values: frozenset[Any] = frozenset()

    def matches(self, column: Any) -> Any:
        """Return a boolean array: which rows of ``column`` meet the condition (null never does but for any)."""
        if self.kind == "any":
            return np.ones(len(column), dtype=bool)
        if self.kind == "range":
            with np.errstate(invalid="ignore"):
                return (column >= self.low) & (column < self.high)
        return np.isin(column, list(self.values))

    def covers(self, other: Condition) -> bool:
        """Return whether every value meeting ``other`` also meets this condition."""
        if self.kind == "any":
            return True
        if other.kind == "any":
            return False
        if self.kind == "range" and other.kind == "range":
            return self.low <= other.low and other.high <= self.high
        if self.kind == "range":
            return all(self.low <= value < self.high for value in other.values)
        if other.kind == "values":
            return other.values <= self.values
        return False

    def overlaps(self, other: Condition) -> bool:
        """Return whether some value meets both conditions."""
        if self.kind == "any" or other.kind == "any":
            return True
        if self.kind == "range" and other.kind == "range":
            return max(self.low, other.low) < min(self.high, other.high)
        if self.kind == "range":
            return any(self.low <= value < self.high for value in other.values)
        if other.kind == "range":
            return other.overlaps(self)
        return bool(self.values & other.values)


@dataclass(frozen=True)
class Rule:
    """One row of a decision table: a condition per input column and a value per output column."""

    conditions: Mapping[str, Condition]
    outputs: Mapping[str, Any]


@dataclass(frozen=True)
class DecisionTable:
    """Rules in order, the default output and the hit policy, for declared input and output columns."""

    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]
    rules: tuple[Rule, ...]
    default: Mapping[str, Any]
    hit_policy: HitPolicy = "first"

    def rule_index(self, *columns: Any) -> Any:
        """Return, per row, the index of the first matching rule, or -1 where the default applies."""
        by_name = {column.name: values for column, values in zip(self.inputs, columns, strict=True)}
        rows = len(columns[0])
        chosen = np.full(rows, -1, dtype=np.int64)
        for index, rule in enumerate(self.rules):
            matched = np.ones(rows, dtype=bool)
            for name, condition in rule.conditions.items():
                matched &= condition.matches(by_name[name])
            chosen[(chosen == -1) & matched] = index
        return chosen

    def evaluate(self, *columns: Any) -> dict[str, Any]:
        """Return one array per output column, taken from each row's rule or the default."""
        chosen = self.rule_index(*columns)
        result = {}
        for column in self.outputs:
            dtype: Any = np.float64 if column.numeric else object
            choices = [rule.outputs[column.name] for rule in self.rules] + [self.default[column.name]]
            result[column.name] = np.asarray(choices, dtype=dtype)[chosen]
        return result


def _condition(function: str, row: int, column: Column, raw: Any) -> Condition:
    where = f"rule {row}, column {column.name!r}"
    if isinstance(raw, str) and raw == ANY:
        return Condition("any")
    if isinstance(raw, Mapping):
        if column.type != "double" or not set(raw) <= {"min", "max"} or not raw:
            reject_combination(
                function,
                "rules",
                f"{where}: a range is {{min = NUMBER, max = NUMBER}} on a double column, got {dict(raw)!r}",
            )
        low = _number(function, where, raw.get("min", -math.inf))
        high = _number(function, where, raw.get("max", math.inf))
        if low >= high:
            reject_combination(function, "rules", f"{where}: range min {low!r} must be below max {high!r}")
        return Condition("range", low=low, high=high)
    values = raw if isinstance(raw, list | tuple) else [raw]
    if not values:
        reject_combination(function, "rules", f'{where}: an empty list matches nothing; use "any" or list values')
    checked = [_value(function, where, column, value) for value in values]
    return Condition("values", values=frozenset(checked))


def _number(function: str, where: str, value: Any, key: str = "rules") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(float(value)):
        reject_combination(function, key, f"{where}: expected a number, got {value!r}")
    return float(value)


def _value(function: str, where: str, column: Column, value: Any, key: str = "rules") -> Any:
    if column.type == "decimal":
        number = _number(function, where, value, key)
        try:
            return column.rounded(number)
        except ValueError as exc:
            reject_combination(
                function, key, f"{where}: {exc}, which DECIMAL({column.precision}, {column.scale}) cannot hold"
            )
    if column.type == "double":
        # -0.0 becomes 0.0: Spark's optimizer takes the two for the same
        # literal and may return either where a table gives both.
        return _number(function, where, value, key) + 0.0
    if not isinstance(value, str):
        reject_combination(function, key, f"{where}: expected a text for a string column, got {value!r}")
    return value


def _outputs(function: str, where: str, outputs: Sequence[Column], raw: Any, key: str) -> dict[str, Any]:
    names = [column.name for column in outputs]
    if not isinstance(raw, Mapping) or set(raw) != set(names):
        found = sorted(raw) if isinstance(raw, Mapping) else raw
        reject_combination(
            function, key, f"{where}: expected a value for each output column {', '.join(names)}, got {found!r}"
        )
    return {
        column.name: _value(function, f"{where}, output {column.name!r}", column, raw[column.name], key)
        for column in outputs
    }


def build_table(
    function: str, inputs: tuple[Column, ...], outputs: tuple[Column, ...], parameters: Mapping[str, Any]
) -> DecisionTable:
    """Build a DecisionTable from validated parameters, or raise ParameterError naming the rule and column."""
    declared = {column.name: column for column in inputs}
    rules = []
    for row, raw in enumerate(parameters["rules"]):
        if set(raw) != {"when", "then"} or not isinstance(raw["when"], Mapping):
            reject_combination(
                function, "rules", f"rule {row}: expected a table with keys 'when' and 'then', got keys {sorted(raw)!r}"
            )
        unknown = sorted(set(raw["when"]) - set(declared))
        if unknown:
            reject_combination(
                function,
                "rules",
                f"rule {row} has a condition on column {unknown[0]!r}, which function {function!r} does not "
                f"declare: its input columns are {', '.join(declared)}",
            )
        conditions = {
            column.name: _condition(function, row, column, raw["when"].get(column.name, ANY)) for column in inputs
        }
        rules.append(Rule(conditions, _outputs(function, f"rule {row}", outputs, raw["then"], "rules")))
    default = _outputs(function, "default", outputs, parameters["default"], "default")
    return DecisionTable(inputs, outputs, tuple(rules), default, parameters["hit_policy"])


def check_rules(function: str, table: DecisionTable) -> None:
    """Reject rules that can never match (first hit) or that overlap (unique hit).

    NOTE: a rule is found unreachable only when one earlier rule covers it;
    a rule covered by several earlier rules together is not detected.
    """
    for later, rule in enumerate(table.rules):
        for earlier in range(later):
            previous = table.rules[earlier].conditions
            if table.hit_policy == "first" and all(previous[n].covers(c) for n, c in rule.conditions.items()):
                reject_combination(
                    function,
                    "rules",
                    f"rule {later} can never match, because rule {earlier} matches every row it would: "
                    f"remove it, or move it above rule {earlier}",
                )
            if table.hit_policy == "unique" and all(previous[n].overlaps(c) for n, c in rule.conditions.items()):
                reject_combination(
                    function,
                    "rules",
                    f"rules {earlier} and {later} overlap, which the unique hit policy forbids: "
                    'narrow one of them, or use hit_policy = "first"',
                )


def table_sql(table: DecisionTable, sql: SqlWriter) -> dict[str, str]:
    """Write a decision table as one SQL CASE expression per output column, rules in order."""
    conditions = [_rule_sql(table, rule, sql) for rule in table.rules]
    expressions = {}
    for column in table.outputs:
        branches = [
            f"WHEN {condition} THEN {sql.literal(rule.outputs[column.name], column)}"
            for condition, rule in zip(conditions, table.rules, strict=True)
        ]
        default = sql.literal(table.default[column.name], column)
        expressions[column.name] = "CASE " + " ".join(branches) + f" ELSE {default} END" if branches else default
    return expressions


def _rule_sql(table: DecisionTable, rule: Rule, sql: SqlWriter) -> str:
    parts = [
        _condition_sql(sql.column(column.name), column, rule.conditions[column.name], sql)
        for column in table.inputs
        if rule.conditions[column.name].kind != "any"
    ]
    return " AND ".join(parts) if parts else "TRUE"


def _condition_sql(value: str, column: Column, condition: Condition, sql: SqlWriter) -> str:
    # Null fails every comparison, so it matches only "any", as in numpy.
    if condition.kind == "range":
        # SQL orders NaN above +inf, so "< high" is false for NaN even when
        # high is +inf, and NaN fails the range as in numpy. The lower bound
        # -inf excludes nothing else, so it is left out.
        below = f"{value} < {sql.number(condition.high)}"
        if condition.low == -math.inf:
            return below
        return f"({value} >= {sql.number(condition.low)} AND {below})"
    ordered = sorted(condition.values)
    if column.type == "double":
        # Equalities rather than IN: Spark turns a long IN list into a hash
        # set, where -0.0 and 0.0 could hash apart; numpy finds them equal.
        return "(" + " OR ".join(f"{value} = {sql.number(item)}" for item in ordered) + ")"
    return f"{value} IN (" + ", ".join(sql.text(item) for item in ordered) + ")"


def _sample(column: Column, condition: Condition) -> Any:
    # A value that meets the condition, or a typical one for "any".
    if condition.kind == "values":
        return sorted(condition.values)[0]
    if condition.kind == "range":
        return condition.low if math.isfinite(condition.low) else min(condition.high - 1.0, 0.0)
    return 0.0 if column.type == "double" else ""


def _golden_cases(table: DecisionTable) -> tuple[GoldenCase, ...]:
    # One input per rule that meets its conditions, with the output the table
    # gives it, so the gate checks that the logged model chooses the same rule.
    cases = []
    for rule in table.rules:
        sample = {column.name: _sample(column, rule.conditions[column.name]) for column in table.inputs}
        arrays = [
            np.asarray([sample[column.name]], dtype=np.float64 if column.type == "double" else object)
            for column in table.inputs
        ]
        outputs = table.evaluate(*arrays)
        expected = {
            name: values[0].item() if hasattr(values[0], "item") else values[0] for name, values in outputs.items()
        }
        cases.append(GoldenCase(x=sample, expected=expected))
    return tuple(cases)


def decision_table(
    *, name: str, description: str, inputs: tuple[Column, ...], outputs: tuple[Column, ...]
) -> BusinessFunction:
    """Declare a decision-table function over ``inputs`` giving ``outputs``; its rules are parameters."""

    def evaluate(*columns: Any, **parameters: Any) -> dict[str, Any]:
        return build_table(name, inputs, outputs, parameters).evaluate(*columns)

    def segment(*columns: Any, **parameters: Any) -> Any:
        return build_table(name, inputs, outputs, parameters).rule_index(*columns)

    def explain(*columns: Any, **parameters: Any) -> ObjectArray:
        table = build_table(name, inputs, outputs, parameters)
        labels = np.array([f"rule {index}" for index in range(len(table.rules))] + ["default"], dtype=object)
        chosen: ObjectArray = labels[table.rule_index(*columns)]
        return chosen

    def check(function: str, parameters: Mapping[str, Any]) -> None:
        check_rules(function, build_table(function, inputs, outputs, parameters))

    def golden_cases(parameters: Mapping[str, Any]) -> tuple[GoldenCase, ...]:
        return _golden_cases(build_table(name, inputs, outputs, parameters))

    def sql(parameters: Mapping[str, Any], writer: SqlWriter) -> dict[str, str]:
        return table_sql(build_table(name, inputs, outputs, parameters), writer)

    return BusinessFunction(
        name=name,
        description=description,
        parameters=(
            Parameter("rules", "rows of conditions on the input columns and the outputs they give", type="records"),
            Parameter("default", "the outputs of a row that no rule matches", type="table"),
            Parameter(
                "hit_policy",
                "first: the first matching rule wins; unique: rules must not overlap",
                type="text",
                options=("first", "unique"),
                default="first",
            ),
        ),
        inputs=inputs,
        outputs=outputs,
        evaluate=evaluate,
        golden_cases=golden_cases,
        segment=segment,
        check=check,
        explain=explain,
        sql=sql,
    )


DISCOUNT = decision_table(
    name="discount",
    description="a discount rate chosen by rules over the order quantity and the customer tier",
    inputs=(
        Column("quantity", "double", "units ordered"),
        Column("tier", "string", "customer tier, such as gold or silver"),
    ),
    outputs=(Column("rate", "double", "discount as a fraction of the list price"),),
)
