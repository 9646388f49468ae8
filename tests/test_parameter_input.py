"""Parameters from widget text and from JSON or TOML parameter files."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlfunc.core import HYBRID
from mlfunc.errors import ParameterError
from mlfunc.parameter_input import parameters_from_text, read_parameter_file

EXPECTED = {"x0": 5.0, "y0": 2.0, "gradient": 1.0}


def test_parameters_from_text_converts_numbers() -> None:
    assert parameters_from_text(HYBRID, {"x0": "5", "y0": " 2.0 ", "gradient": "1e0"}) == EXPECTED


@pytest.mark.parametrize(
    ("texts", "parameter", "message"),
    [
        ({"x0": "five", "y0": "2", "gradient": "1"}, "x0", r"invalid parameter 'x0' .*got 'five'"),
        ({"x0": "5", "y0": "nan", "gradient": "1"}, "y0", r"invalid parameter 'y0' .*expected a finite number"),
        ({"x0": "5", "y0": "2", "gradient": "  "}, "gradient", r"missing parameter 'gradient'"),
        ({"x0": "5", "y0": "2", "gradient": "1", "slope": "3"}, "slope", r"unknown parameter 'slope'"),
    ],
)
def test_parameters_from_text_invalid(texts: dict[str, str], parameter: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message) as caught:
        parameters_from_text(HYBRID, texts)
    assert caught.value.parameter == parameter
    assert caught.value.function == "hybrid"


@pytest.mark.parametrize(
    ("file_name", "content"),
    [
        ("hybrid.json", '{"x0": 5, "y0": 2, "gradient": 1}'),
        ("hybrid.json", '{"function": "hybrid", "x0": 5.0, "y0": 2, "gradient": 1}'),
        ("hybrid.toml", 'function = "hybrid"\nx0 = 5\ny0 = 2.0\ngradient = 1\n'),
        ("HYBRID.TOML", "x0 = 5\ny0 = 2\ngradient = 1\n"),
    ],
)
def test_read_parameter_file(tmp_path: Path, file_name: str, content: str) -> None:
    path = tmp_path / file_name
    path.write_text(content)
    assert read_parameter_file(HYBRID, path) == EXPECTED


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("hybrid.yaml", "x0: 5\n", r"expected a \.json or \.toml file"),
        ("hybrid.json", '{"x0": 5, ', r"invalid parameter file '.*hybrid\.json': Expecting"),
        ("hybrid.toml", "x0 = \n", r"invalid parameter file '.*hybrid\.toml': "),
        ("hybrid.json", "[5, 2, 1]", "expected parameter names and numbers, got a list"),
        ("hybrid.json", '{"function": "tiered", "x0": 5}', "is for function 'tiered', not 'hybrid'"),
        ("hybrid.json", '{"x0": "5", "y0": 2, "gradient": 1}', r"invalid parameter 'x0' .*got '5'"),
    ],
)
def test_read_parameter_file_invalid(tmp_path: Path, file_name: str, content: str, message: str) -> None:
    path = tmp_path / file_name
    path.write_text(content)
    with pytest.raises(ParameterError, match=message):
        read_parameter_file(HYBRID, path)


def test_read_parameter_file_missing(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"parameter file '.*missing\.json' not found"):
        read_parameter_file(HYBRID, tmp_path / "missing.json")
