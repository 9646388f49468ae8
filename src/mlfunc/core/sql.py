"""Compiling business functions to SQL expressions for Spark SQL and DuckDB.

A function that declares ``sql`` can be translated, for one set of
parameters, into a plain SQL expression over its input columns. The engine
then evaluates it natively, without sending rows to a Python worker.

The translation must give the same bits as the numpy code, not merely close
values. So every function writes its arithmetic in the order numpy runs it.
Numbers are DOUBLE literals that both engines parse to the same double as
Python: ``repr`` digits with an exponent, such as ``5.0E0``.

Both engines order NaN above every other double and treat NaN = NaN as
true, where numpy's comparisons with NaN are all false. The translations
only compare with ``<`` against a literal on the right (false for NaN in
every engine) or test ``isnan`` first.

A null input differs from NaN only in SQL: pandas has no null for a double,
so mlfunc passes it as NaN. Where the numpy code returns NaN because an
input was null, the SQL engines return null, in compiled SQL and in
mlfunc's Python functions alike.

    >>> from mlfunc.core import HYBRID
    >>> compile_sql(HYBRID, {"x0": 5.0, "y0": 2.0, "gradient": 1.0}, "spark").text
    'CASE WHEN `x` < 5.0E0 THEN 2.0E0 ELSE 1.0E0 * `x` + (-3.0E0) END'
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from mlfunc.errors import CompileError

if TYPE_CHECKING:
    from mlfunc.core.function import BusinessFunction, Column

Dialect = Literal["spark", "duckdb"]
DIALECTS: tuple[Dialect, ...] = ("spark", "duckdb")

_TYPES: dict[Dialect, dict[str, str]] = {
    "spark": {"double": "DOUBLE", "string": "STRING"},
    "duckdb": {"double": "DOUBLE", "string": "VARCHAR"},
}


class SqlWriter:
    """A writer of the pieces of an expression in one dialect: columns, literals, NaN tests.

    ``columns`` maps an input column name to the SQL text that stands for
    it; by default, the quoted column name.
    """

    def __init__(self, dialect: Dialect, columns: Mapping[str, str] | None = None) -> None:
        if dialect not in DIALECTS:
            raise CompileError(f"unknown SQL dialect {dialect!r}: expected one of {', '.join(DIALECTS)}")
        self.dialect = dialect
        self._columns = dict(columns or {})

    def column(self, name: str) -> str:
        """Return the SQL text for input column ``name``."""
        if name in self._columns:
            return self._columns[name]
        return quote_identifier(name, self.dialect)

    def number(self, value: float) -> str:
        """Return a DOUBLE literal that parses to exactly ``value``, in parentheses when negative."""
        value = float(value)
        if math.isnan(value):
            return "CAST('NaN' AS DOUBLE)"
        if math.isinf(value):
            return "CAST('Infinity' AS DOUBLE)" if value > 0 else "CAST('-Infinity' AS DOUBLE)"
        # repr gives the shortest digits that read back as the same double. An
        # exponent makes both engines read a DOUBLE, not a DECIMAL, and a
        # DECIMAL would round twice on its way to a double.
        digits = repr(value).upper()
        if "E" not in digits:
            digits += "E0"
        return f"({digits})" if digits.startswith("-") else digits

    def text(self, value: str) -> str:
        """Return a string literal for ``value``, escaped for the dialect."""
        if self.dialect == "spark":
            # Spark reads backslash escapes inside string literals.
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def literal(self, value: Any, column: Column) -> str:
        """Return a literal of ``column``'s type. A decimal literal takes the digits of the rounded double."""
        if column.type == "decimal":
            return f"CAST('{decimal_digits(value, column)}' AS {sql_type(column, self.dialect)})"
        return self.number(value) if column.type == "double" else self.text(str(value))

    def is_null_or_nan(self, expression: str) -> str:
        """Return a condition true where ``expression`` is null or NaN, in both dialects."""
        return f"{expression} IS NULL OR isnan({expression})"


def decimal_digits(value: float, column: Column) -> str:
    """Return ``value``, a double already rounded to the column's scale, as exact digits with that scale."""
    return str(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-(column.scale or 0))))


def quote_identifier(name: str, dialect: Dialect) -> str:
    """Quote a column or function name, so that names like ``order`` are not read as keywords."""
    if dialect == "spark":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def sql_type(column: Column, dialect: Dialect) -> str:
    """Return the SQL type of ``column`` in ``dialect``."""
    if column.type == "decimal":
        return f"DECIMAL({column.precision}, {column.scale})"
    return _TYPES[dialect][column.type]


@dataclass(frozen=True)
class SqlExpression:
    """A function compiled for one set of parameters: one SQL expression and its result type.

    A function with several outputs compiles to a struct with one field per
    output column.
    """

    function: str
    dialect: Dialect
    text: str
    inputs: tuple[Column, ...]
    outputs: tuple[Column, ...]

    @property
    def result_type(self) -> str:
        """The SQL type of the expression's value."""
        if len(self.outputs) == 1:
            return sql_type(self.outputs[0], self.dialect)
        if self.dialect == "spark":
            fields = ", ".join(f"{quote_identifier(c.name, 'spark')}: {sql_type(c, 'spark')}" for c in self.outputs)
            return f"STRUCT<{fields}>"
        fields = ", ".join(f"{quote_identifier(c.name, 'duckdb')} {sql_type(c, 'duckdb')}" for c in self.outputs)
        return f"STRUCT({fields})"


def compile_sql(
    function: BusinessFunction,
    parameters: Mapping[str, Any],
    dialect: Dialect,
    *,
    columns: Mapping[str, str] | None = None,
) -> SqlExpression:
    """Compile ``function`` with validated ``parameters`` to one SQL expression in ``dialect``.

    ``columns`` replaces input column names by other SQL text, such as a
    function parameter or a cast. Raises CompileError when the function
    declares no SQL translation.
    """
    if function.sql is None:
        raise CompileError(
            f"function {function.name!r} has no SQL translation: it runs as a Python function instead "
            "(functions that compile are hybrid, piecewise and decision tables)"
        )
    unknown = sorted(set(columns or {}) - {column.name for column in function.inputs})
    if unknown:
        names = ", ".join(column.name for column in function.inputs)
        raise CompileError(f"function {function.name!r} has no input column {unknown[0]!r}: its inputs are {names}")

    writer = SqlWriter(dialect, columns)
    written = function.sql(parameters, writer)
    per_output = written if isinstance(written, Mapping) else {function.output.name: written}
    if len(function.outputs) == 1:
        text = per_output[function.output.name]
    elif dialect == "spark":
        text = "named_struct(" + ", ".join(f"'{c.name}', {per_output[c.name]}" for c in function.outputs) + ")"
    else:
        fields = ", ".join(f"{quote_identifier(c.name, dialect)} := {per_output[c.name]}" for c in function.outputs)
        text = f"struct_pack({fields})"
    return SqlExpression(function.name, dialect, text, function.inputs, function.outputs)


def create_function_statement(
    function: BusinessFunction,
    parameters: Mapping[str, Any],
    dialect: Dialect,
    name: str,
    *,
    temporary: bool,
    comment: str | None = None,
) -> str:
    """Return the statement that defines ``function`` with ``parameters`` as the SQL function ``name``.

    For Spark this is a SQL function (``CREATE FUNCTION ... RETURN``) with
    typed parameters, which Spark inlines into the query plan. For DuckDB it
    is a macro, whose untyped parameters are cast to the declared types in
    the body. ``comment`` (one line) goes above the statement as a ``--``
    line, and into Spark's COMMENT clause, which the catalog keeps.
    """
    if comment is not None and "\n" in comment:
        raise CompileError(f"a function comment must be one line, got {comment!r}")
    header = f"-- {comment}\n" if comment else ""
    parts = name.split(".")
    if not all(parts):
        raise CompileError(
            f"invalid function name {name!r}: expected NAME or a dotted name such as catalog.schema.NAME"
        )
    if temporary and len(parts) > 1:
        raise CompileError(
            f"invalid temporary function name {name!r}: a temporary function lives in the session, "
            "not in a catalog or schema; drop the dotted prefix, or create a persistent function"
        )
    # A dotted name (catalog.schema.function) is quoted part by part.
    quoted = ".".join(quote_identifier(part, dialect) for part in parts)
    scope = "TEMPORARY " if temporary else ""
    if dialect == "spark":
        expression = compile_sql(function, parameters, "spark")
        typed = ", ".join(f"{quote_identifier(c.name, dialect)} {sql_type(c, dialect)}" for c in function.inputs)
        described = f"\nCOMMENT {SqlWriter(dialect).text(comment)}" if comment else ""
        return (
            f"{header}CREATE OR REPLACE {scope}FUNCTION {quoted}({typed})\n"
            f"RETURNS {expression.result_type}{described}\nRETURN {expression.text}"
        )
    expression = compile_sql(function, parameters, dialect, columns=_macro_columns(function))
    names = ", ".join(quote_identifier(c.name, dialect) for c in function.inputs)
    scope = "TEMP " if temporary else ""
    statement = f"{header}CREATE OR REPLACE {scope}MACRO {quoted}({names}) AS\n{expression.text};"
    if comment and not temporary:
        # DuckDB keeps a comment on a macro in its catalog (duckdb_functions()).
        statement += f"\nCOMMENT ON MACRO {quoted} IS {SqlWriter(dialect).text(comment)};"
    return statement


def _macro_columns(function: BusinessFunction) -> dict[str, str]:
    # A DuckDB macro's parameters have no type, so the body casts them to
    # the declared types, as Spark does for a typed SQL function.
    return {
        column.name: f"CAST({quote_identifier(column.name, 'duckdb')} AS {sql_type(column, 'duckdb')})"
        for column in function.inputs
    }
