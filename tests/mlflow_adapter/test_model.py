"""The original demo's HybridFunction keeps its interface, now vectorised."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest

from mlfunc import HybridFunction
from mlfunc.errors import InputDataError, ParameterError


def test_hybrid_function_is_a_python_model() -> None:
    assert isinstance(HybridFunction(x0=5, y0=2, gradient=1), mlflow.pyfunc.PythonModel)


def test_hybrid_function_predicts_every_cell() -> None:
    model = HybridFunction(x0=5, y0=2, gradient=1)
    frame = pd.DataFrame([range(-2, 13)])
    result = model.predict(None, frame)
    expected = [2.0 if x < 5 else x - 3.0 for x in range(-2, 13)]
    assert result.shape == frame.shape
    assert list(result.columns) == list(frame.columns)
    assert result.iloc[0].tolist() == expected


def test_hybrid_function_keeps_original_attributes() -> None:
    model = HybridFunction(x0=5, y0=2, gradient=1)
    assert (model.x0, model.y0, model.gradient, model.c) == (5.0, 2.0, 1.0, -3.0)


def test_hybrid_function_custom_function_on_scalar_and_array() -> None:
    model = HybridFunction(x0=5, y0=2, gradient=1)
    assert model._custom_function(4) == 2.0
    assert model._custom_function(7) == 4.0
    assert model._custom_function(np.array([4.0, 7.0])).tolist() == [2.0, 4.0]


def test_hybrid_function_rejects_text_cells() -> None:
    with pytest.raises(InputDataError, match="column\\(s\\) 'name' are not numeric"):
        HybridFunction(x0=5, y0=2, gradient=1).predict(None, pd.DataFrame({"x": [1.0], "name": ["a"]}))


def test_hybrid_function_validates_parameters() -> None:
    with pytest.raises(ParameterError, match="'y0'"):
        HybridFunction(x0=5, y0=float("nan"), gradient=1)
