from __future__ import annotations

import pytest

from mlfunc.core import Parameter, validate_parameters
from mlfunc.errors import ParameterError

RATE = Parameter("rate", "tax rate", unit="fraction", minimum=0.0, maximum=1.0)


def test_parameter_bounds_are_inclusive() -> None:
    assert RATE.validate(0, function="tax") == 0.0
    assert RATE.validate(1, function="tax") == 1.0


@pytest.mark.parametrize("value", [-0.01, 1.5])
def test_parameter_out_of_range_message(value: float) -> None:
    with pytest.raises(ParameterError) as caught:
        RATE.validate(value, function="tax")
    message = str(caught.value)
    assert "'rate' of function 'tax'" in message
    assert "in fraction" in message
    assert "expected a finite number from 0 to 1" in message
    assert repr(value) in message


def test_parameter_reserved_name_rejected() -> None:
    with pytest.raises(ValueError, match="other than 'function'"):
        Parameter("function", "clashes with the model config key")


def test_validate_parameters_returns_floats() -> None:
    assert validate_parameters("tax", (RATE,), {"rate": 1}) == {"rate": 1.0}


def _invalid_values(parameter: Parameter) -> list[object]:
    """Values that break each rule the declaration states: type, finiteness, bounds and options."""
    if parameter.type == "boolean":
        return ["yes", 1]
    if parameter.type == "text":
        return [3, "not-an-option"] if parameter.options else [3]
    if parameter.type == "records":
        return ["rows", [1, 2], []]
    if parameter.type == "table":
        return ["rate", [0.0]]
    if parameter.type == "number_list":
        return ["1, 2", [float("nan")], [True]]
    if parameter.type == "number_table":
        return [[1.0], [["a"]], []]
    values: list[object] = ["1", float("nan"), float("inf"), True]
    if parameter.minimum is not None:
        values.append(parameter.minimum - 1)
    if parameter.maximum is not None:
        values.append(parameter.maximum + 1)
    if parameter.type == "integer":
        values.append(1.5)
    return values


def _valid_values(function_name: str) -> dict[str, object]:
    from mlfunc.core import DISCOUNT, HYBRID, PIECEWISE

    samples: dict[str, dict[str, object]] = {
        HYBRID.name: {"x0": 5.0, "y0": 2.0, "gradient": 1.0},
        PIECEWISE.name: {"breakpoints": [1.0], "segments": [[0.0], [1.0]], "domain_min": 0.0, "domain_max": 9.0},
        DISCOUNT.name: {"rules": [{"when": {"tier": "gold"}, "then": {"rate": 0.1}}], "default": {"rate": 0.0}},
    }
    return samples[function_name]


def _every_declared_parameter() -> list[tuple[str, str, object]]:
    from mlfunc.core import FUNCTIONS

    return [
        (function.name, parameter.name, value)
        for function in FUNCTIONS.values()
        for parameter in function.parameters
        for value in _invalid_values(parameter)
    ]


@pytest.mark.parametrize(("function_name", "parameter_name", "value"), _every_declared_parameter())
def test_every_parameter_rejects_invalid_value(function_name: str, parameter_name: str, value: object) -> None:
    from mlfunc.core import get_function

    function = get_function(function_name)
    with pytest.raises(ParameterError) as caught:
        function.validate({**_valid_values(function_name), parameter_name: value})
    assert caught.value.parameter == parameter_name
    assert f"invalid parameter {parameter_name!r} of function {function_name!r}" in str(caught.value)
    assert f"got {value!r}" in str(caught.value)
