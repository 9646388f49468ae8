"""The pyfunc models: FunctionModel, and the original demo's HybridFunction, now vectorised."""

from __future__ import annotations

import inspect

import mlflow.pyfunc
import numpy as np
import pandas as pd
import pytest
from mlflow.pyfunc.model import PythonModelContext

from mlfunc import FunctionModel, HybridFunction
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


def function_model(**parameters: float) -> FunctionModel:
    """A FunctionModel for the hybrid function, loaded the way MLflow loads it."""
    model = FunctionModel()
    config = {"function": "hybrid", **parameters}
    model.load_context(PythonModelContext(artifacts={}, model_config=config))
    return model


def test_function_model_predict_keeps_index() -> None:
    model = function_model(x0=5, y0=2, gradient=1)
    frame = pd.DataFrame({"x": [1.0, 7.0, None]}, index=[10, 20, 30])
    result = model.predict(None, frame)
    assert list(result.columns) == ["y"]
    assert result.index.tolist() == [10, 20, 30]
    assert result["y"].tolist()[:2] == [2.0, 4.0]
    assert np.isnan(result["y"].iloc[2])


def test_function_model_predict_leaves_input_unchanged() -> None:
    model = function_model(x0=5, y0=2, gradient=1)
    frame = pd.DataFrame({"x": [1.0, 7.0]})
    model.predict(None, frame)
    assert frame["x"].tolist() == [1.0, 7.0]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, 7], dtype="int64"),
        pd.Series([1.0, 7.0], dtype="float32"),
        pd.Series([1.0, None], dtype="Float64"),
    ],
    ids=["int64", "float32", "nullable-Float64"],
)
def test_function_model_predict_converts_numeric_dtypes(column: pd.Series) -> None:
    result = function_model(x0=5, y0=2, gradient=1).predict(None, pd.DataFrame({"x": column}))
    assert result["y"].iloc[0] == 2.0
    expected_second = 4.0 if column.notna().iloc[1] else np.nan
    assert np.array_equal(result["y"].to_numpy()[1:], [expected_second], equal_nan=True)


def test_function_model_predict_selects_named_column() -> None:
    frame = pd.DataFrame({"other": [100.0, 100.0], "x": [1.0, 7.0]})
    result = function_model(x0=5, y0=2, gradient=1).predict(None, frame)
    assert result["y"].tolist() == [2.0, 4.0]


def test_function_model_predict_without_columns() -> None:
    with pytest.raises(InputDataError, match="model input has no columns: expected the column 'x'"):
        function_model(x0=5, y0=2, gradient=1).predict(None, pd.DataFrame(index=[0, 1]))


def test_function_model_signature_still_takes_params() -> None:
    # MLflow passes params only if inspect.signature shows a params argument;
    # the precomputed signature must be the real one.
    parameters = inspect.signature(function_model(x0=5, y0=2, gradient=1).predict).parameters
    assert list(parameters) == ["context", "model_input", "params"]
