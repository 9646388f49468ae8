"""Compiling functions to SQL text: literals, escaping, statements and errors, without an engine."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfunc.core import DISCOUNT, HYBRID, PIECEWISE, Column, business_function, decision_table
from mlfunc.core.sql import SqlWriter, compile_sql, create_function_statement
from mlfunc.errors import CompileError, ParameterError

HYBRID_PARAMETERS = HYBRID.validate({"x0": 5.0, "y0": 2.0, "gradient": 1.0})


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_number_literal_reads_back_as_the_same_double(value: float) -> None:
    literal = SqlWriter("spark").number(value)
    assert "E" in literal
    assert math.copysign(1.0, float(literal.strip("()"))) == math.copysign(1.0, value)
    assert float(literal.strip("()")) == value


def test_number_literal_special_values() -> None:
    writer = SqlWriter("duckdb")
    assert writer.number(math.inf) == "CAST('Infinity' AS DOUBLE)"
    assert writer.number(-math.inf) == "CAST('-Infinity' AS DOUBLE)"
    assert writer.number(math.nan) == "CAST('NaN' AS DOUBLE)"
    assert writer.number(-0.0) == "(-0.0E0)"
    assert writer.number(1e-7) == "1E-07"


def test_text_literal_escaping_per_dialect() -> None:
    assert SqlWriter("spark").text("it's a\\b") == "'it\\'s a\\\\b'"
    assert SqlWriter("duckdb").text("it's a\\b") == "'it''s a\\b'"


def test_unknown_dialect_is_rejected() -> None:
    with pytest.raises(CompileError, match="unknown SQL dialect 'oracle'"):
        compile_sql(HYBRID, HYBRID_PARAMETERS, "oracle")  # type: ignore[arg-type]


def test_hybrid_compiles_in_numpy_order() -> None:
    duckdb_text = compile_sql(HYBRID, HYBRID_PARAMETERS, "duckdb").text
    assert duckdb_text == 'CASE WHEN "x" < 5.0E0 THEN 2.0E0 ELSE 1.0E0 * "x" + (-3.0E0) END'


def test_columns_replace_input_names() -> None:
    text = compile_sql(HYBRID, HYBRID_PARAMETERS, "spark", columns={"x": "`alcohol`"}).text
    assert "`alcohol` < 5.0E0" in text
    with pytest.raises(CompileError, match="no input column 'y'.*inputs are x"):
        compile_sql(HYBRID, HYBRID_PARAMETERS, "spark", columns={"y": "alcohol"})


def test_function_without_translation_says_it_runs_in_python() -> None:
    @business_function(
        description="a fee",
        inputs=(Column("weight", "double", "kg"),),
        outputs=(Column("cost", "double", "EUR"),),
    )
    def fee(weight):  # type: ignore[no-untyped-def]
        return weight * 2.0

    with pytest.raises(CompileError, match="function 'fee' has no SQL translation: it runs as a Python function"):
        compile_sql(fee, {}, "spark")


def test_piecewise_clamp_uses_the_value_at_the_bound() -> None:
    parameters = PIECEWISE.validate(
        {"breakpoints": [0.0], "segments": [[1.0], [0.5, 0.25]], "domain_max": 10.0, "outside": "clamp"}
    )
    text = compile_sql(PIECEWISE, parameters, "spark").text
    at_bound = float(PIECEWISE.evaluate([10.0], **parameters)[0])
    assert f"WHEN `x` > 10.0E0 THEN {at_bound!r}E0" in text
    assert text.startswith("CASE WHEN `x` IS NULL OR isnan(`x`) THEN `x`")
    assert text.endswith("ELSE 0.25E0 * `x` + 0.5E0 END")


def test_piecewise_null_outside_gives_nan() -> None:
    parameters = PIECEWISE.validate({"breakpoints": [], "segments": [[1.0]], "domain_min": 0.0, "outside": "null"})
    assert "WHEN `x` < 0.0E0 THEN CAST('NaN' AS DOUBLE)" in compile_sql(PIECEWISE, parameters, "spark").text


def test_decision_table_rules_in_order() -> None:
    parameters = DISCOUNT.validate(
        {
            "rules": [
                {"when": {"quantity": {"min": 10, "max": 100}, "tier": ["gold"]}, "then": {"rate": 0.1}},
                {"when": {"quantity": [5, -0.0]}, "then": {"rate": 0.05}},
            ],
            "default": {"rate": 0.0},
        }
    )
    text = compile_sql(DISCOUNT, parameters, "duckdb").text
    assert text == (
        'CASE WHEN ("quantity" >= 10.0E0 AND "quantity" < 100.0E0) AND "tier" IN (\'gold\') THEN 0.1E0 '
        'WHEN ("quantity" = 0.0E0 OR "quantity" = 5.0E0) THEN 0.05E0 ELSE 0.0E0 END'
    )


def test_two_outputs_compile_to_struct() -> None:
    table = decision_table(
        name="pricing",
        description="a price and a label",
        inputs=(Column("tier", "string", "customer tier"),),
        outputs=(Column("price", "double", "EUR"), Column("label", "string", "shown to the customer")),
    )
    parameters = table.validate(
        {
            "rules": [{"when": {"tier": "gold"}, "then": {"price": 9.5, "label": "Gold"}}],
            "default": {"price": 10.0, "label": "Standard"},
        }
    )
    spark = compile_sql(table, parameters, "spark")
    assert spark.text.startswith("named_struct('price', CASE WHEN `tier` IN ('gold') THEN 9.5E0 ELSE 10.0E0 END")
    assert spark.result_type == "STRUCT<`price`: DOUBLE, `label`: STRING>"
    duckdb = compile_sql(table, parameters, "duckdb")
    assert duckdb.text.startswith('struct_pack("price" := CASE')
    assert duckdb.result_type == 'STRUCT("price" DOUBLE, "label" VARCHAR)'


def test_spark_statement_keeps_the_comment_in_the_catalog() -> None:
    statement = create_function_statement(
        HYBRID, HYBRID_PARAMETERS, "spark", "custom_model_udf", temporary=False, comment="from version 3"
    )
    assert statement.splitlines() == [
        "-- from version 3",
        "CREATE OR REPLACE FUNCTION `custom_model_udf`(`x` DOUBLE)",
        "RETURNS DOUBLE",
        "COMMENT 'from version 3'",
        "RETURN CASE WHEN `x` < 5.0E0 THEN 2.0E0 ELSE 1.0E0 * `x` + (-3.0E0) END",
    ]


def test_duckdb_statement_casts_macro_parameters() -> None:
    temporary = create_function_statement(HYBRID, HYBRID_PARAMETERS, "duckdb", "f", temporary=True, comment="v3")
    assert 'CREATE OR REPLACE TEMP MACRO "f"("x") AS' in temporary
    assert 'CAST("x" AS DOUBLE) < 5.0E0' in temporary
    assert "COMMENT ON" not in temporary
    persistent = create_function_statement(HYBRID, HYBRID_PARAMETERS, "duckdb", "f", temporary=False, comment="v3")
    assert persistent.endswith("COMMENT ON MACRO \"f\" IS 'v3';")


def test_comment_must_be_one_line() -> None:
    with pytest.raises(CompileError, match="one line"):
        create_function_statement(HYBRID, HYBRID_PARAMETERS, "spark", "f", temporary=True, comment="a\nb")


PRICE = decision_table(
    name="price",
    description="a unit price by quantity",
    inputs=(Column("quantity", "double", "units ordered"),),
    outputs=(Column("price", "decimal", "unit price in EUR", precision=6, scale=2),),
)


def test_decimal_output_rounds_half_up() -> None:
    parameters = PRICE.validate(
        {"rules": [{"when": {"quantity": {"max": 10}}, "then": {"price": 2.675}}], "default": {"price": 0.125}}
    )
    assert PRICE.evaluate(np.array([1.0, 20.0]), **parameters)["price"].tolist() == [2.68, 0.13]
    text = compile_sql(PRICE, parameters, "spark").text
    assert text == (
        "CASE WHEN `quantity` < 10.0E0 THEN CAST('2.68' AS DECIMAL(6, 2)) ELSE CAST('0.13' AS DECIMAL(6, 2)) END"
    )
    assert compile_sql(PRICE, parameters, "duckdb").result_type == "DECIMAL(6, 2)"


def test_decimal_output_too_long() -> None:
    with pytest.raises(
        ParameterError, match=r"default, output 'price': 12345.0 has more than 6 digits.*DECIMAL\(6, 2\)"
    ):
        PRICE.validate(
            {"rules": [{"when": {"quantity": {"max": 1}}, "then": {"price": 1}}], "default": {"price": 12345.0}}
        )


def test_decimal_column_declaration_is_checked() -> None:
    with pytest.raises(ValueError, match="needs 1 <= precision <= 38"):
        Column("price", "decimal", "EUR", precision=40, scale=2)
    with pytest.raises(ValueError, match="apply to decimal columns only"):
        Column("rate", "double", "fraction", precision=5, scale=2)
    with pytest.raises(ValueError, match="decimal is an output type"):
        decision_table(
            name="bad",
            description="a decimal input",
            inputs=(Column("amount", "decimal", "EUR", precision=10, scale=2),),
            outputs=(Column("rate", "double", "fraction"),),
        )


def test_dotted_function_name_is_quoted_part_by_part() -> None:
    statement = create_function_statement(HYBRID, HYBRID_PARAMETERS, "spark", "main.default.f", temporary=False)
    assert "CREATE OR REPLACE FUNCTION `main`.`default`.`f`(`x` DOUBLE)" in statement
    with pytest.raises(CompileError, match="invalid function name 'main..f'"):
        create_function_statement(HYBRID, HYBRID_PARAMETERS, "spark", "main..f", temporary=False)
