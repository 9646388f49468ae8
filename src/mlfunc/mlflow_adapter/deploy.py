"""Packaging a parameterised business function as an MLflow model version."""

from __future__ import annotations

import json
import logging
import platform
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.types import ColSpec, Schema

import mlfunc
from mlfunc.core import BusinessFunction
from mlfunc.mlflow_adapter import model_entry
from mlfunc.mlflow_adapter.lineage import git_tags
from mlfunc.mlflow_adapter.model import FUNCTION_KEY
from mlfunc.mlflow_adapter.registry import promote, registry_errors
from mlfunc.mlflow_adapter.registry_kind import check_registry_request
from mlfunc.mlflow_adapter.store import DEFAULT_EXPERIMENT, ensure_experiment, use_store

logger = logging.getLogger(__name__)

MODEL_ARTIFACT_NAME = "model"


@dataclass(frozen=True)
class Deployment:
    """A logged and registered model version."""

    name: str
    version: str
    run_id: str
    model_uri: str
    tracking_uri: str
    stage: str | None
    alias: str | None

    @property
    def registry_uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def signature_for(function: BusinessFunction) -> ModelSignature:
    """Return the model signature: one double input column and one double output column."""
    return ModelSignature(
        inputs=Schema([ColSpec(function.input.type, function.input.name)]),
        outputs=Schema([ColSpec(function.output.type, function.output.name)]),
    )


def input_example_for(function: BusinessFunction) -> pd.DataFrame:
    low, high = function.plot_domain
    return pd.DataFrame({function.input.name: np.linspace(low, high, 3)})


def pip_requirements() -> list[str]:
    """Pin what the logged model imports to the versions running now.

    Listing them saves MLflow from loading the model in a subprocess to infer them.
    """
    return [f"{package}=={metadata.version(package)}" for package in ("mlflow", "numpy", "pandas")]


def _copy_source(destination: Path) -> Path:
    # Copy mlfunc without byte-code caches, so the logged code is source only.
    package = Path(mlfunc.__file__).parent
    target = destination / "mlfunc"
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def deploy(
    function: BusinessFunction,
    parameters: Mapping[str, object],
    *,
    name: str,
    stage: str | None = None,
    alias: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
) -> Deployment:
    """Log ``function`` with ``parameters`` as an MLflow model, register a new version and promote it.

    Parameters, the model name and the stage are validated before anything
    is written, so invalid ones leave the tracking store and registry
    unchanged. Unity Catalog accepts only three-part names and no stage.
    """
    values = function.validate(parameters)
    store = use_store()
    check_registry_request(name, stage)

    with registry_errors(f"deploying {function.name} as {name!r} to {store.display_uri}"):
        experiment_id = ensure_experiment(store, experiment)
        with mlflow.start_run(experiment_id=experiment_id) as run:
            model_info = _log_model(function, values)
        version = _register(name, function, values, run.info.run_id, model_info)

    logger.info("Logged model %s in run %s", model_info.model_uri, run.info.run_id)
    logger.info("Registered version %s of %r", version, name)

    if stage is not None or alias is not None:
        promote(name, version, stage=stage, alias=alias)

    return Deployment(
        name=name,
        version=version,
        run_id=run.info.run_id,
        model_uri=model_info.model_uri,
        tracking_uri=store.display_uri,
        stage=stage,
        alias=alias,
    )


def _run_tags(function: BusinessFunction, values: Mapping[str, float]) -> dict[str, str]:
    return {
        "mlfunc.function": function.name,
        "mlfunc.parameters": json.dumps(dict(values), sort_keys=True),
        "mlfunc.version": mlfunc.__version__,
        "mlfunc.python": platform.python_version(),
        **git_tags(),
    }


def _log_model(function: BusinessFunction, values: Mapping[str, float]) -> mlflow.models.model.ModelInfo:
    # MLflow also logs the model config as run params; logging the same values
    # first keeps the two identical, because MLflow rejects a changed param.
    config: dict[str, object] = {FUNCTION_KEY: function.name, **values}
    mlflow.log_params(config)
    mlflow.set_tags(_run_tags(function, values))

    with tempfile.TemporaryDirectory(prefix="mlfunc-code-") as scratch:
        info: mlflow.models.model.ModelInfo = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT_NAME,
            python_model=model_entry.__file__,
            code_paths=[str(_copy_source(Path(scratch)))],
            model_config=config,
            signature=signature_for(function),
            input_example=input_example_for(function),
            pip_requirements=pip_requirements(),
        )
    return info


def _register(
    name: str,
    function: BusinessFunction,
    values: Mapping[str, float],
    run_id: str,
    model_info: mlflow.models.model.ModelInfo,
) -> str:
    client = mlflow.MlflowClient()
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException as exc:
        # A previous deploy (or a concurrent one) created it. Unity Catalog
        # reports ALREADY_EXISTS where the workspace registry reports
        # RESOURCE_ALREADY_EXISTS; MLflow 3.17's own register_model accepts both.
        if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
            raise

    arguments = ", ".join(f"{key}={value:g}" for key, value in values.items())
    version = client.create_model_version(
        name=name,
        source=model_info.model_uri,
        run_id=run_id,
        model_id=model_info.model_id,
        tags=_run_tags(function, values),
        description=f"{function.name}({arguments}), deployed with mlfunc {mlfunc.__version__}",
    )
    return str(version.version)
