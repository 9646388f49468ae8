"""MLflow pyfunc models that evaluate mlfunc business functions."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from mlflow.pyfunc.model import PythonModel, PythonModelContext

from mlfunc.core import HYBRID, evaluate_hybrid, get_function
from mlfunc.core.function import BusinessFunction, FloatArray
from mlfunc.errors import InputDataError

# Key of the model config that names the business function: a built-in name
# or the module:attribute it was loaded from. The other keys are its
# parameters, and EXPLAIN_KEY when the version adds an explanation column.
FUNCTION_KEY = "function"
EXPLAIN_KEY = "explain"


def config_values(function: BusinessFunction, values: Mapping[str, Any]) -> dict[str, Any]:
    """Encode validated parameters for the model config, which MLflow also logs as flat run params.

    Lists and tables become JSON text, and parameters left at a None
    default are omitted, so every value is a plain number, text or boolean.
    """
    encoded: dict[str, Any] = {}
    for parameter in function.parameters:
        value = values[parameter.name]
        if value is None:
            continue
        encoded[parameter.name] = json.dumps(value) if parameter.structured else value
    return encoded


def decode_config(function: BusinessFunction, config: Mapping[str, Any]) -> dict[str, Any]:
    """Reverse :func:`config_values`: parse the JSON text of structured parameters."""
    structured = {parameter.name for parameter in function.parameters if parameter.structured}
    return {
        key: json.loads(value) if key in structured and isinstance(value, str) else value
        for key, value in config.items()
    }


class FunctionModel(PythonModel):
    """Evaluate the business function named in the model config with its parameters.

    The config is written when a version is logged and read back in
    ``load_context``, so the model carries no pickled state.
    """

    def load_context(self, context: PythonModelContext) -> None:
        config = dict(context.model_config or {})
        self._function: BusinessFunction = get_function(str(config.pop(FUNCTION_KEY)))
        self._explain = bool(config.pop(EXPLAIN_KEY, False))
        self._parameters = self._function.validate(decode_config(self._function, config))
        self._single_column = (
            len(self._function.inputs) == len(self._function.outputs) == 1
            and self._function.input.type == "double"
            and not self._explain
        )
        # Built once: pandas indexes are immutable, so every output frame can share it.
        self._output_columns = pd.Index([self._function.output.name])

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        if not self._single_column:
            return self._function.evaluate_frame(model_input, self._parameters, explain=self._explain)
        values = _input_values(model_input, self._function.input.name)
        result = self._function.evaluate(values, **self._parameters)
        if isinstance(result, Mapping):
            # A decision table returns a mapping even for one output column.
            result = result[self._function.output.name]
        # The result is a new array, so the frame can wrap it without a copy.
        return pd.DataFrame(result.reshape(-1, 1), index=model_input.index, columns=self._output_columns, copy=False)


# MLflow calls inspect.signature on predict for every prediction (MLflow 3.17,
# _PythonModelPyfuncWrapper.predict) to see whether it takes ``params``, which
# costs tens of microseconds per call. A precomputed __signature__ is what
# inspect.signature returns first. It can go when MLflow caches the signature.
FunctionModel.predict.__signature__ = inspect.signature(FunctionModel.predict)  # type: ignore[attr-defined]


def _input_values(model_input: pd.DataFrame, column: str) -> FloatArray:
    if model_input.shape[1] == 0:
        raise InputDataError(f"model input has no columns: expected the column {column!r}")
    # MLflow's schema enforcement has already checked the column's name and
    # type and dropped other columns, but a caller without a signature may
    # pass several columns, or one unnamed column.
    if model_input.shape[1] > 1:
        model_input = model_input[[column]] if column in model_input.columns else model_input.iloc[:, :1]

    # A frame fresh from schema enforcement has cold lookup caches, so
    # to_numpy is several times cheaper than selecting the column by name.
    # For a float64 column it returns a view, not a copy.
    return model_input.to_numpy(dtype=np.float64, na_value=np.nan).reshape(-1)


class HybridFunction(PythonModel):
    """The original demo's model: the hybrid function applied to every cell of a DataFrame.

    Kept so that code written against the demo keeps working, now vectorised.
    New code should deploy the ``hybrid`` function with ``mlfunc deploy``.

    >>> import pandas as pd
    >>> HybridFunction(x0=5, y0=2, gradient=1).predict(None, pd.DataFrame([[1, 7]])).values.tolist()
    [[2.0, 4.0]]
    """

    def __init__(self, x0: float, y0: float, gradient: float) -> None:
        parameters = HYBRID.validate({"x0": x0, "y0": y0, "gradient": gradient})
        self.x0 = parameters["x0"]
        self.y0 = parameters["y0"]
        self.gradient = parameters["gradient"]
        self.c = self.y0 - self.gradient * self.x0

    def _custom_function(self, values: npt.ArrayLike) -> Any:
        """Evaluate on a scalar (returning a float) or on an array (returning an array)."""
        result = evaluate_hybrid(values, x0=self.x0, y0=self.y0, gradient=self.gradient)
        return float(result) if result.ndim == 0 else result

    def predict(
        self,
        context: PythonModelContext | None,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        non_numeric = [str(name) for name, dtype in frame.dtypes.items() if not pd.api.types.is_numeric_dtype(dtype)]
        if non_numeric:
            raise InputDataError(
                f"HybridFunction.predict: column(s) {', '.join(map(repr, non_numeric))} are not numeric: "
                "pass a DataFrame whose every column holds numbers"
            )

        values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
        return pd.DataFrame(self._custom_function(values), index=frame.index, columns=frame.columns)
