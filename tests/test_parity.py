"""Every engine gives the same bits: core, compiled Spark SQL, Spark's Python path, DuckDB's macro and Python path.

Hypothesis draws parameters and inputs, including NaN, infinities, -0.0,
nulls, integers, DECIMAL values, values on and next to every breakpoint and
very large magnitudes. A difference is a bug in a translation, so results
are compared bit for bit (every NaN counts as one value). Where the core
returns NaN because the input was null, the SQL engines return null.

MLFUNC_PARITY_EXAMPLES raises the number of examples for a longer hunt.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mlfunc.core import DISCOUNT, HYBRID, PIECEWISE, BusinessFunction, Column, decision_table
from mlfunc.core.sql import create_function_statement
from mlfunc.duckdb_adapter.query import create_arrow_function
from mlfunc.errors import ParameterError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.mlflow_adapter.loading import load_model
from tests.conftest import HYBRID_PARAMETERS

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("MLFUNC_PARITY_EXAMPLES", "12"))
PARITY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="MLFUNC_PARITY_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# DECIMAL(15, 4) has at most 15 significant digits, which every engine
# converts to the nearest double.
DECIMAL_TYPE = "DECIMAL(15, 4)"
DECIMAL_LIMIT = 10**11

finite = st.floats(allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
special = st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 0.0, 1e308, -1e308, 5e-324, 2.0**53 + 1])


def same_bits(left: Any, right: Any) -> bool:
    """Return whether two results are equal: both null, both NaN, or the same double (sign of zero included).

    A DECIMAL result equals the double whose shortest digits it holds.
    """
    if left is None or right is None:
        return left is None and right is None
    if isinstance(right, Decimal):
        return isinstance(left, float) and Decimal(repr(left)) == right
    if isinstance(left, str) or isinstance(right, str):
        return bool(left == right)
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    return struct.pack("<d", left) == struct.pack("<d", right)


def near(points: Sequence[float]) -> list[float]:
    """Return each point and the doubles just below and above it, where a wrong comparison shows."""
    around = []
    for point in points:
        around += [point, math.nextafter(point, -math.inf), math.nextafter(point, math.inf)]
    return around


def as_decimal(value: float | None) -> Decimal | None:
    """Return ``value`` as a DECIMAL(15, 4) value, or None where it has no such form."""
    if value is None or not math.isfinite(value) or abs(value) >= DECIMAL_LIMIT:
        return None
    decimal = Decimal(repr(value)).quantize(Decimal("0.0001"))
    # SQL's DECIMAL has no negative zero; Python's Decimal keeps the sign.
    return decimal if decimal != 0 else Decimal("0.0000")


def as_integer(value: float | None) -> int | None:
    if value is None or not math.isfinite(value) or abs(value) >= 2.0**63:
        return None
    return int(value)


def expected_results(function: BusinessFunction, parameters: Mapping[str, Any], columns: Sequence[list[Any]]) -> list:
    """Evaluate the core on the inputs (null as NaN or None) and apply the null rule of the SQL engines."""
    arrays = [
        # float() of a Decimal or an int is the nearest double, as in SQL.
        np.asarray([math.nan if value is None else float(value) for value in values], dtype=np.float64)
        if column.type == "double"
        else np.asarray(values, dtype=object)
        for column, values in zip(function.inputs, columns, strict=True)
    ]
    result = function.evaluate(*arrays, **parameters)
    output = result[function.output.name] if isinstance(result, Mapping) else result
    null_rows = [any(values[row] is None for values in columns) for row in range(len(columns[0]))]
    return [
        None if null and isinstance(value, float) and math.isnan(value) else value
        for value, null in zip(output.tolist(), null_rows, strict=True)
    ]


def check_engines(
    spark: Any,
    function: BusinessFunction,
    parameters: Mapping[str, Any],
    columns: Sequence[list[Any]],
    types: Sequence[str] | None = None,
) -> None:
    """Run the inputs through every engine and compare each result with the core's.

    ``types`` are the SQL types of the input columns, by default the types
    the function declares; the core gets the same values as doubles.
    """
    expected = expected_results(function, parameters, columns)
    declared = [{"double": "DOUBLE", "string": "VARCHAR"}[column.type] for column in function.inputs]
    schema = ", ".join(f"{c.name} {t}" for c, t in zip(function.inputs, types or declared, strict=True))
    rows = list(zip(range(len(expected)), *columns, strict=True))
    results = {
        **spark_results(spark, function, parameters, rows, schema),
        **duckdb_results(function, parameters, rows, schema),
    }
    for engine, values in results.items():
        for row, (want, got) in enumerate(zip(expected, values, strict=True)):
            inputs = [column[row] for column in columns]
            assert same_bits(want, got), f"{engine} gives {got!r} for {inputs!r}, the core {want!r}: {parameters}"


def spark_results(
    spark: Any, function: BusinessFunction, parameters: Mapping[str, Any], rows: list[tuple[Any, ...]], schema: str
) -> dict[str, list[Any]]:
    from mlfunc.spark_adapter.sql import arrow_function

    spark.sql(create_function_statement(function, parameters, "spark", "parity_compiled", temporary=True))
    spark.udf.register("parity_python", arrow_function(function, parameters))
    spark.createDataFrame(rows, f"id INT, {schema.replace('VARCHAR', 'STRING')}").createOrReplaceTempView("parity")
    names = ", ".join(column.name for column in function.inputs)
    query = f"SELECT parity_compiled({names}) AS compiled, parity_python({names}) AS python FROM parity ORDER BY id"
    collected = spark.sql(query).collect()
    return {
        "spark compiled": [row["compiled"] for row in collected],
        "spark python": [row["python"] for row in collected],
    }


def duckdb_results(
    function: BusinessFunction, parameters: Mapping[str, Any], rows: list[tuple[Any, ...]], schema: str
) -> dict[str, list[Any]]:
    connection = duckdb.connect()
    try:
        connection.execute(create_function_statement(function, parameters, "duckdb", "parity_macro", temporary=True))
        create_arrow_function(connection, "parity_python", function, parameters)
        connection.execute(f"CREATE TABLE parity (id INTEGER, {schema})")
        connection.executemany(f"INSERT INTO parity VALUES ({', '.join('?' * len(rows[0]))})", rows)
        names = ", ".join(column.name for column in function.inputs)
        query = f"SELECT parity_macro({names}), parity_python({names}) FROM parity ORDER BY id"
        collected = connection.execute(query).fetchall()
    finally:
        connection.close()
    return {"duckdb macro": [row[0] for row in collected], "duckdb python": [row[1] for row in collected]}


def curve_inputs(points: Sequence[float], draw: Callable[[Any], Any]) -> list[float | None]:
    """Inputs for a one-column function: drawn values, special values, nulls and the neighbours of ``points``."""
    values: list[float | None] = draw(st.lists(st.one_of(finite, special, moderate), min_size=1, max_size=20))
    values += near(points) + [None, math.nan, -0.0, 0.0, math.inf, -math.inf]
    return values


def check_curve_typed(spark: Any, function: BusinessFunction, parameters: Mapping[str, Any], values: list) -> None:
    """Check the same values as DECIMAL and BIGINT arguments; the core gets the doubles they convert to."""
    check_engines(spark, function, parameters, [[as_decimal(value) for value in values]], [DECIMAL_TYPE])
    check_engines(spark, function, parameters, [[as_integer(value) for value in values]], ["BIGINT"])


@PARITY
@given(data=st.data(), x0=finite | moderate, y0=finite | moderate, gradient=finite | moderate | st.just(0.0))
def test_hybrid_same_on_every_engine(spark, data: st.DataObject, x0: float, y0: float, gradient: float) -> None:  # type: ignore[no-untyped-def]
    parameters = HYBRID.validate({"x0": x0, "y0": y0, "gradient": gradient})
    values = curve_inputs([x0], data.draw)
    check_engines(spark, HYBRID, parameters, [values])
    check_curve_typed(spark, HYBRID, parameters, values)


@st.composite
def piecewise_parameters(draw: Callable[[Any], Any]) -> dict[str, Any]:
    breakpoints = sorted(set(draw(st.lists(moderate | finite, max_size=4))))
    coefficients = st.lists(moderate | finite | st.just(-0.0), min_size=1, max_size=3)
    segments = [draw(coefficients) for _ in range(len(breakpoints) + 1)]
    outside = draw(st.sampled_from(["extend", "clamp", "null"]))
    low = draw(st.none() | moderate)
    high = draw(st.none() | moderate)
    if outside != "extend" and low is None and high is None:
        low = -1.0
    if low is not None and high is not None and low >= high:
        low, high = (high - 1.0, low) if low != high else (low - 1.0, high)
    return {
        "breakpoints": breakpoints,
        "segments": segments,
        "domain_min": low,
        "domain_max": high,
        "outside": outside,
    }


@PARITY
@given(data=st.data(), raw=piecewise_parameters())
def test_piecewise_same_on_every_engine(spark, data: st.DataObject, raw: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    try:
        parameters = PIECEWISE.validate(raw)
    except ParameterError:
        assume(False)
    edges = [*raw["breakpoints"], *(bound for bound in (raw["domain_min"], raw["domain_max"]) if bound is not None)]
    values = curve_inputs(edges, data.draw)
    check_engines(spark, PIECEWISE, parameters, [values])
    check_curve_typed(spark, PIECEWISE, parameters, values)


TIERS = ["gold", "silver", "it's", "back\\slash", "ünï", ""]


@st.composite
def discount_parameters(draw: Callable[[Any], Any]) -> dict[str, Any]:
    bound = st.integers(-50, 200).map(float)
    quantity = st.one_of(
        st.just("any"),
        st.builds(lambda low, width: {"min": low, "max": low + width}, bound, st.integers(1, 100).map(float)),
        st.builds(lambda low: {"min": low}, bound),
        st.builds(lambda high: {"max": high}, bound),
        st.lists(bound | st.just(-0.0), min_size=1, max_size=3),
    )
    tier = st.one_of(st.just("any"), st.lists(st.sampled_from(TIERS), min_size=1, max_size=3, unique=True))
    rate = moderate | st.just(-0.0)
    rules = [
        {"when": {"quantity": draw(quantity), "tier": draw(tier)}, "then": {"rate": draw(rate)}}
        for _ in range(draw(st.integers(1, 4)))
    ]
    return {"rules": rules, "default": {"rate": draw(rate)}}


@PARITY
@given(data=st.data(), raw=discount_parameters())
def test_decision_table_same_on_every_engine(spark, data: st.DataObject, raw: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
    try:
        parameters = DISCOUNT.validate(raw)
    except ParameterError:
        assume(False)
    edges = [
        float(bound)
        for rule in raw["rules"]
        if isinstance(rule["when"]["quantity"], dict)
        for bound in rule["when"]["quantity"].values()
    ]
    quantities = curve_inputs(edges, data.draw)
    tiers = [data.draw(st.none() | st.sampled_from(TIERS) | st.text(max_size=3)) for _ in quantities]
    check_engines(spark, DISCOUNT, parameters, [quantities, tiers])


@PARITY
@given(values=st.lists(st.one_of(finite, special, st.sampled_from(near([HYBRID_PARAMETERS["x0"]]))), max_size=50))
def test_loaded_model_same_as_core(deployed: Deployment, values: list[float]) -> None:
    model, _ = load_model("models:/shared_model@champion")
    predicted = model.predict(pd.DataFrame({"x": np.asarray(values, dtype=np.float64)}))
    expected = HYBRID.evaluate(np.asarray(values, dtype=np.float64), **HYBRID.validate(HYBRID_PARAMETERS))
    for value, want, got in zip(values, expected.tolist(), predicted["y"].tolist(), strict=True):
        assert same_bits(want, got), f"the loaded model gives {got!r} for {value!r}, the core {want!r}"


PRICE = decision_table(
    name="price",
    description="a unit price in EUR by quantity",
    inputs=(Column("quantity", "double", "units ordered"),),
    outputs=(Column("price", "decimal", "unit price in EUR", precision=12, scale=2),),
)


@PARITY
@given(
    data=st.data(),
    prices=st.lists(
        st.floats(min_value=-1e9, max_value=1e9) | st.sampled_from([2.675, 0.125, -0.005]), min_size=3, max_size=3
    ),
)
def test_decimal_output_same_on_every_engine(spark, data: st.DataObject, prices: list[float]) -> None:  # type: ignore[no-untyped-def]
    parameters = PRICE.validate(
        {
            "rules": [
                {"when": {"quantity": {"max": 10}}, "then": {"price": prices[0]}},
                {"when": {"quantity": {"min": 10, "max": 100}}, "then": {"price": prices[1]}},
            ],
            "default": {"price": prices[2]},
        }
    )
    check_engines(spark, PRICE, parameters, [curve_inputs([10.0, 100.0], data.draw)])
