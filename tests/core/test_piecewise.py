from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlfunc.core import HYBRID, PIECEWISE, evaluate_hybrid, evaluate_piecewise
from mlfunc.core.piecewise import horner
from mlfunc.errors import ParameterError
from mlfunc.paramfiles import read_parameter_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "piecewise"


def example(name: str) -> dict[str, Any]:
    return PIECEWISE.validate(read_parameter_file(EXAMPLES / name))


def two_segments(x0: float, y0: float, gradient: float) -> dict[str, Any]:
    """The piecewise parameters equivalent to hybrid(x0, y0, gradient), intercept computed as hybrid does."""
    return PIECEWISE.validate({"breakpoints": [x0], "segments": [[y0], [y0 - gradient * x0, gradient]]})


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
any_float = st.floats(allow_nan=True, allow_infinity=True)


@given(x0=finite, y0=finite, gradient=finite, x=st.lists(any_float, min_size=1, max_size=20))
def test_piecewise_equals_hybrid_on_every_input(x0: float, y0: float, gradient: float, x: list[float]) -> None:
    values = np.array([*x, x0], dtype=np.float64)
    # Huge or infinite x overflows to inf or gives NaN (0 * inf) in both
    # functions, which is the IEEE result being compared, not an error.
    with np.errstate(over="ignore", invalid="ignore"):
        expected = evaluate_hybrid(values, x0=x0, y0=y0, gradient=gradient)
        actual = PIECEWISE.evaluate(values, **two_segments(x0, y0, gradient))
    assert np.array_equal(actual, expected, equal_nan=True)


def test_piecewise_segments_match_hybrid() -> None:
    x = np.array([-np.inf, 4.0, 5.0, 6.0, np.nan])
    parameters = two_segments(5.0, 2.0, 1.0)
    assert PIECEWISE.segment is not None
    assert HYBRID.segment is not None
    assert PIECEWISE.segment(x, **parameters).tolist() == HYBRID.segment(x, x0=5.0, y0=2.0, gradient=1.0).tolist()


def test_piecewise_breakpoint_belongs_to_right_segment() -> None:
    parameters = PIECEWISE.validate({"breakpoints": [0.0, 1.0], "segments": [[10.0], [20.0], [30.0]]})
    result = PIECEWISE.evaluate(np.array([-0.5, 0.0, 0.5, 1.0, 2.0]), **parameters)
    assert result.tolist() == [10.0, 20.0, 20.0, 30.0, 30.0]


def test_piecewise_without_breakpoints_is_one_polynomial() -> None:
    parameters = PIECEWISE.validate({"breakpoints": [], "segments": [[1.0, 2.0, 3.0]]})
    assert PIECEWISE.evaluate(np.array([0.0, 1.0, 2.0]), **parameters).tolist() == [1.0, 6.0, 17.0]


def test_horner_order_is_fixed() -> None:
    x = np.array([0.1, 3.7, -2.25])
    coefficients = (0.3, -1.7, 2.9)
    expected = (2.9 * x + -1.7) * x + 0.3
    assert np.array_equal(horner(coefficients, x), expected)


def test_constant_segment_ignores_infinite_x() -> None:
    parameters = PIECEWISE.validate({"breakpoints": [0.0], "segments": [[1.0], [2.0]]})
    assert PIECEWISE.evaluate(np.array([-np.inf, np.inf]), **parameters).tolist() == [1.0, 2.0]


def test_piecewise_nan_input_gives_nan_and_no_segment() -> None:
    parameters = PIECEWISE.validate({"breakpoints": [0.0], "segments": [[1.0], [2.0]]})
    assert np.isnan(PIECEWISE.evaluate(np.array([np.nan]), **parameters)).all()
    assert PIECEWISE.segment is not None
    assert PIECEWISE.segment(np.array([np.nan]), **parameters).tolist() == [-1]


@pytest.mark.parametrize(
    ("outside", "expected"),
    [("extend", [-1.0, 0.0, 4.0, 5.0]), ("clamp", [0.0, 0.0, 4.0, 4.0]), ("null", [np.nan, 0.0, 4.0, np.nan])],
)
def test_piecewise_outside_domain(outside: str, expected: list[float]) -> None:
    parameters = PIECEWISE.validate(
        {"breakpoints": [], "segments": [[0.0, 1.0]], "domain_min": 0.0, "domain_max": 4.0, "outside": outside}
    )
    result = PIECEWISE.evaluate(np.array([-1.0, 0.0, 4.0, 5.0]), **parameters)
    assert np.array_equal(result, np.array(expected), equal_nan=True)


def test_piecewise_does_not_modify_input() -> None:
    x = np.array([-1.0, 6.0, np.nan])
    before = x.copy()
    evaluate_piecewise(x, **example("tax_brackets.toml"))
    assert np.array_equal(x, before, equal_nan=True)


def test_tax_brackets_example() -> None:
    parameters = example("tax_brackets.toml")
    income = np.array([-500.0, 10000.0, 12570.0, 30000.0, 60000.0, 200000.0])
    # 20 % of (30,000 - 12,570); 7,540 + 40 % of 9,730; 37,488 + 45 % of 74,860.
    expected = np.array([0.0, 0.0, 0.0, 3486.0, 11432.0, 71175.0])
    assert np.allclose(PIECEWISE.evaluate(income, **parameters), expected, rtol=0, atol=1e-6)


def test_price_tiers_example() -> None:
    parameters = example("price_tiers.toml")
    quantity = np.array([-1.0, 1.0, 9.0, 10.0, 49.0, 50.0])
    expected = np.array([np.nan, 12.0, 108.0, 105.0, 514.5, 450.0])
    assert np.array_equal(PIECEWISE.evaluate(quantity, **parameters), expected, equal_nan=True)


def test_commission_example() -> None:
    parameters = example("commission.yaml")
    sales = np.array([10000.0, 20000.0, 60000.0, 100000.0, 150000.0, 2e6])
    # (60,000 - 20,000)^2 / 1.6e6 = 1,000; the cap is 0.1 * 1e6 - 6,000.
    expected = np.array([0.0, 0.0, 1000.0, 4000.0, 9000.0, 94000.0])
    assert np.allclose(PIECEWISE.evaluate(sales, **parameters), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", ["tax_brackets.toml", "price_tiers.toml", "commission.yaml"])
def test_example_golden_cases_pass(name: str) -> None:
    parameters = example(name)
    cases = PIECEWISE.golden_cases(parameters)
    assert len(cases) == len(parameters["breakpoints"]) + 2
    actual = PIECEWISE.evaluate(np.array([case.x for case in cases]), **parameters)
    assert all(case.passes(float(value)) for case, value in zip(cases, actual, strict=True))


def test_explanation_names_the_segment() -> None:
    parameters = example("tax_brackets.toml")
    labels = PIECEWISE.explanations([np.array([100.0, 20000.0, 200000.0, np.nan])], parameters)
    assert labels.tolist() == [
        "segment 0: x < 12570",
        "segment 1: 12570 <= x < 50270",
        "segment 3: x >= 125140",
        None,
    ]


BAD_PARAMETERS = [
    ({"breakpoints": [2.0, 1.0], "segments": [[0.0], [1.0], [2.0]]}, "breakpoints", "increasing order, but 1.0"),
    ({"breakpoints": [1.0, 1.0], "segments": [[0.0], [1.0], [2.0]]}, "breakpoints", "appears twice"),
    ({"breakpoints": [1.0], "segments": [[0.0]]}, "segments", "expected 2 segments"),
    ({"breakpoints": [1.0], "segments": [[0.0], [1.0, 2.0, 3.0, 4.0]]}, "segments", "segment 1 has 4 coefficients"),
    ({"breakpoints": [1.0], "segments": [[0.0], []]}, "segments", "segment 1 has 0 coefficients"),
    ({"breakpoints": ["a"], "segments": [[0.0], [1.0]]}, "breakpoints", "expected a list of finite numbers"),
    ({"breakpoints": [1.0], "segments": [0.0, 1.0]}, "segments", "expected a list of lists"),
    ({"breakpoints": [], "segments": [[0.0]], "outside": "wrap"}, "outside", "one of 'extend', 'clamp', 'null'"),
    ({"breakpoints": [], "segments": [[0.0]], "outside": "clamp"}, "outside", "needs a domain"),
    ({"breakpoints": [], "segments": [[0.0]], "domain_min": 2.0, "domain_max": 1.0}, "domain_max", "greater than"),
    ({"breakpoints": [], "segments": [[0.0]], "continuous": "yes"}, "continuous", "true or false"),
]


@pytest.mark.parametrize(("values", "parameter", "fragment"), BAD_PARAMETERS)
def test_piecewise_rejects_bad_parameters(values: dict[str, Any], parameter: str, fragment: str) -> None:
    with pytest.raises(ParameterError) as caught:
        PIECEWISE.validate(values)
    assert caught.value.parameter == parameter
    assert f"'{parameter}'" in str(caught.value)
    assert fragment in str(caught.value)


def test_continuity_check_names_breakpoint_and_gap() -> None:
    values = {"breakpoints": [10.0], "segments": [[5.0], [0.0, 0.6]], "continuous": True}
    with pytest.raises(ParameterError, match=r"do not meet at breakpoint x=10\.0") as caught:
        PIECEWISE.validate(values)
    assert "a gap of 1.0" in str(caught.value)
    assert "set continuous = false" in str(caught.value)
    assert PIECEWISE.validate({**values, "continuous": False})["segments"] == ((5.0,), (0.0, 0.6))
