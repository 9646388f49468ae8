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
