from __future__ import annotations

import math
import re
import sys
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfunc.core import HYBRID, evaluate_hybrid
from mlfunc.core.hybrid import BLOCK_SIZE
from mlfunc.errors import ConfigurationError, ParameterError
from mlfunc.settings import KERNEL_ENV, KERNELS

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Any double, NaN and infinities included, for the kernels' bit-for-bit agreement.
any_double = st.floats(allow_nan=True, allow_infinity=True)


def test_hybrid_reference_values() -> None:
    x = np.arange(-2, 13, dtype=np.float64)
    expected = np.where(x < 5, 2.0, x - 3.0)
    assert np.array_equal(HYBRID(x, x0=5, y0=2, gradient=1), expected)


def test_hybrid_breakpoint_belongs_to_linear_segment() -> None:
    assert HYBRID([5.0], x0=5, y0=2, gradient=3).tolist() == [2.0]
    assert HYBRID([5.5], x0=5, y0=2, gradient=3).tolist() == [3.5]


def test_hybrid_nan_input_gives_nan() -> None:
    result = HYBRID([np.nan, 1.0], x0=5, y0=2, gradient=1)
    assert math.isnan(result[0])
    assert result[1] == 2.0


def test_hybrid_infinities_follow_segments() -> None:
    result = HYBRID([-np.inf, np.inf], x0=5, y0=2, gradient=1)
    assert result.tolist() == [2.0, np.inf]


def test_hybrid_does_not_modify_input() -> None:
    x = np.array([1.0, 6.0, np.nan])
    before = x.copy()
    HYBRID(x, x0=5, y0=2, gradient=1)
    assert np.array_equal(x, before, equal_nan=True)


def test_hybrid_accepts_integers_and_lists() -> None:
    result = evaluate_hybrid([1, 10], x0=5, y0=2, gradient=1)
    assert result.dtype == np.float64
    assert result.tolist() == [2.0, 7.0]


@given(x=finite, x0=finite, y0=finite, gradient=finite)
def test_hybrid_matches_definition(x: float, x0: float, y0: float, gradient: float) -> None:
    expected = y0 if x < x0 else gradient * x + (y0 - gradient * x0)
    assert HYBRID([x], x0=x0, y0=y0, gradient=gradient)[0] == expected


@given(x0=finite, y0=finite, gradient=finite)
def test_hybrid_segments_meet_at_breakpoint(x0: float, y0: float, gradient: float) -> None:
    at_breakpoint = HYBRID([x0], x0=x0, y0=y0, gradient=gradient)[0]
    # gradient * x0 + (y0 - gradient * x0) rounds twice, so the error scales
    # with the larger of the two terms, not with y0.
    scale = max(abs(gradient * x0), abs(y0))
    assert abs(at_breakpoint - y0) <= 4 * np.spacing(scale)


@given(xs=st.lists(finite, min_size=1, max_size=50), x0=finite, y0=finite)
def test_hybrid_is_constant_below_breakpoint(xs: list[float], x0: float, y0: float) -> None:
    x = np.array(xs)
    result = HYBRID(x, x0=x0, y0=y0, gradient=2.5)
    assert np.all(result[x < x0] == y0)


INVALID_VALUES = [float("nan"), float("inf"), float("-inf"), "5", None, True, [5.0]]


@pytest.mark.parametrize("parameter", [parameter.name for parameter in HYBRID.parameters])
@pytest.mark.parametrize("value", INVALID_VALUES, ids=repr)
def test_hybrid_invalid_parameter_named(parameter: str, value: object) -> None:
    parameters: dict[str, object] = {"x0": 5.0, "y0": 2.0, "gradient": 1.0, parameter: value}
    pattern = rf"invalid parameter '{parameter}' of function 'hybrid'.*got {re.escape(repr(value))}"
    with pytest.raises(ParameterError, match=pattern):
        HYBRID([1.0], **parameters)


def test_hybrid_unknown_parameter_rejected() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'slope'.*expected only x0, y0, gradient"):
        HYBRID.validate({"x0": 1, "y0": 2, "gradient": 3, "slope": 4})


def test_hybrid_missing_parameter_rejected() -> None:
    with pytest.raises(ParameterError, match=r"missing parameter 'gradient'") as caught:
        HYBRID.validate({"x0": 1, "y0": 2})
    assert caught.value.parameter == "gradient"


def reference(x: np.ndarray, x0: float, y0: float, gradient: float) -> np.ndarray:
    """The definition evaluated with whole-array numpy operations."""
    with np.errstate(over="ignore", invalid="ignore"):
        return np.where(x < x0, y0, gradient * x + (y0 - gradient * x0))


@pytest.fixture(params=KERNELS)
def kernel(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once per evaluation kernel, selected as users select it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KERNEL_ENV, request.param)
        yield request.param


def assert_same_bits(actual: np.ndarray, expected: np.ndarray) -> None:
    assert actual.dtype == np.float64
    assert actual.shape == expected.shape
    assert np.array_equal(actual, expected, equal_nan=True)
    # array_equal counts -0.0 and 0.0 as equal, so compare the signs as well.
    numbers = ~np.isnan(expected)
    assert np.array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))


@pytest.mark.parametrize("size", [1, BLOCK_SIZE - 1, BLOCK_SIZE, BLOCK_SIZE + 1, 3 * BLOCK_SIZE + 5])
def test_hybrid_kernel_block_boundaries(kernel: str, size: int) -> None:
    x = np.random.default_rng(size).uniform(-10, 20, size)
    x[::7] = np.nan
    assert_same_bits(evaluate_hybrid(x, x0=5, y0=2, gradient=1.5), reference(x, 5, 2, 1.5))


@pytest.mark.parametrize("kernel_name", KERNELS)
# No deadline: the first example with the numba kernel includes its compilation.
@settings(deadline=None)
@given(xs=st.lists(any_double, max_size=40), x0=finite, y0=finite, gradient=finite)
def test_hybrid_kernels_match_reference_bits(
    kernel_name: str, xs: list[float], x0: float, y0: float, gradient: float
) -> None:
    x = np.array(xs, dtype=np.float64)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(KERNEL_ENV, kernel_name)
        result = evaluate_hybrid(x, x0=x0, y0=y0, gradient=gradient)
    assert_same_bits(result, reference(x, x0, y0, gradient))


@pytest.mark.parametrize(
    "layout",
    ["fortran", "strided", "transposed", "scalar", "empty"],
)
def test_hybrid_kernel_keeps_shape_of_any_layout(kernel: str, layout: str) -> None:
    grid = np.random.default_rng(0).uniform(-10, 20, (300, 4))
    x = {
        "fortran": np.asfortranarray(grid),
        "strided": grid[::3, 1],
        "transposed": grid.T,
        "scalar": np.float64(7.5),
        "empty": np.empty((0, 3)),
    }[layout]
    before = np.array(x, copy=True)
    assert_same_bits(evaluate_hybrid(x, x0=5, y0=2, gradient=1.5), reference(np.asarray(x), 5, 2, 1.5))
    assert np.array_equal(x, before)


def test_hybrid_kernel_extra_memory_is_one_output(kernel: str) -> None:
    x = np.random.default_rng(0).uniform(-10, 20, 20 * BLOCK_SIZE)
    evaluate_hybrid(x[:10], x0=5, y0=2, gradient=1.5)  # compiles the numba kernel outside the measurement
    tracemalloc.start()
    try:
        result = evaluate_hybrid(x, x0=5, y0=2, gradient=1.5)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # The output array, plus at most one block's mask and small Python objects.
    assert peak <= result.nbytes + BLOCK_SIZE + 16 * 1024


def test_hybrid_unknown_kernel_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNEL_ENV, "fortran")
    with pytest.raises(ConfigurationError, match=r"invalid MLFUNC_KERNEL 'fortran': expected one of numpy, numba"):
        evaluate_hybrid([1.0], x0=5, y0=2, gradient=1)


def test_hybrid_numba_kernel_without_numba(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KERNEL_ENV, "numba")
    # A None entry makes `import numba` raise ImportError, as if it were not installed.
    monkeypatch.setitem(sys.modules, "numba", None)
    monkeypatch.delitem(sys.modules, "mlfunc.core._compiled", raising=False)
    with pytest.raises(ConfigurationError, match=r"needs the numba package: pip install 'mlfunc\[jit\]'"):
        evaluate_hybrid([1.0], x0=5, y0=2, gradient=1)


def test_hybrid_explanation_names_segment() -> None:
    labels = HYBRID.explanations([np.array([1.0, 5.0, np.nan])], {"x0": 5.0, "y0": 2.0, "gradient": 1.0})
    assert labels.tolist() == ["segment 0: x < 5", "segment 1: x >= 5", None]
