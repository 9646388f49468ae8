"""Loading a model version by URI, with the version it resolved to."""

from __future__ import annotations

import logging

import mlflow.pyfunc

from mlfunc.mlflow_adapter.registry import RegisteredVersion, registry_errors, resolve_version
from mlfunc.mlflow_adapter.store import use_store

logger = logging.getLogger(__name__)


def load_model(model_uri: str) -> tuple[mlflow.pyfunc.PyFuncModel, RegisteredVersion | None]:
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


def input_column_name(model: mlflow.pyfunc.PyFuncModel) -> str | None:
    """Return the name of the model's single input column, or None if its signature has none."""
    schema = model.metadata.get_input_schema()
    if schema is None or not schema.has_input_names():
        return None
    return str(schema.input_names()[0])
