"""Loading a model version by URI, with the version it resolved to."""

from __future__ import annotations

import logging

import mlflow.pyfunc
import numpy as np
import pandas as pd
from mlflow.pyfunc import PyFuncModel

from mlfunc.mlflow_adapter.registry import RegisteredVersion, registry_errors, resolve_version
from mlfunc.mlflow_adapter.store import use_store

logger = logging.getLogger(__name__)


def load_model(model_uri: str) -> tuple[PyFuncModel, RegisteredVersion | None]:
    """Load ``model_uri`` as a pyfunc model and return it with its registered version.

    The version is None for URIs outside the registry (``runs:/``, paths).
    Raises ModelNotFoundError, naming the versions that exist, for a registry
    URI that points nowhere.
    """
    use_store()
    version = resolve_version(model_uri)
    with registry_errors(f"loading model {model_uri!r}"):
        model = mlflow.pyfunc.load_model(model_uri)
    return model, version


def input_column_name(model: PyFuncModel) -> str | None:
    """Return the name of the model's single input column, or None if its signature has none."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return None
    return str(schema.input_names()[0])


def prediction_values(output: object) -> np.ndarray:
    """Return the first output column of a pyfunc prediction as a float64 array.

    ``PyFuncModel.predict`` is typed to return many shapes. mlfunc models
    return a DataFrame, but a Series or an array is accepted too.
    """
    if isinstance(output, pd.DataFrame):
        return output.iloc[:, 0].to_numpy(dtype=np.float64, na_value=np.nan)
    if isinstance(output, pd.Series):
        return output.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(output, dtype=np.float64).reshape(-1)
