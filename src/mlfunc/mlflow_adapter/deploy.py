"""Packaging a parameterised business function as a validated MLflow model version.

``deploy`` validates the parameters, logs the model from code, checks the
golden cases against the logged artifact in a fresh process, and only then
registers a version and promotes it. Deploying the same code and parameters
again reuses the version that contains them unless ``force`` is set.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import numpy.typing as npt
import pandas as pd
from mlflow.models import ModelSignature
from mlflow.models.model import ModelInfo
from mlflow.types import ColSpec, Schema, TensorSpec

import mlfunc
from mlfunc.core import BusinessFunction, GoldenCase
from mlfunc.core.catalog import module_root
from mlfunc.core.function import EXPLANATION_COLUMN, describe_arguments
from mlfunc.errors import ModelNotFoundError
from mlfunc.mlflow_adapter import model_entry
from mlfunc.mlflow_adapter.gate import GoldenResult, run_gate
from mlfunc.mlflow_adapter.lineage import CODE_HASH_TAG, PARAMETERS_HASH_TAG, lineage_tags
from mlfunc.mlflow_adapter.model import EXPLAIN_KEY, FUNCTION_KEY, config_values
from mlfunc.mlflow_adapter.promotion import EXCLUSIVE_STAGES, PromotionPlan, promote, validate_alias
from mlfunc.mlflow_adapter.registry import RegisteredVersion, list_versions, registry_errors
from mlfunc.mlflow_adapter.registry_kind import check_registry_request
from mlfunc.mlflow_adapter.report import model_card, reference_metrics
from mlfunc.mlflow_adapter.store import DEFAULT_EXPERIMENT, ensure_experiment, retry_when_locked, use_store
from mlfunc.plotting import plot_function

logger = logging.getLogger(__name__)

MODEL_ARTIFACT_NAME = "model"
MODEL_CARD_FILE = "model_card.md"
PLOT_FILE = "function.png"


@dataclass(frozen=True)
class Deployment:
    """The outcome of a deploy: a new or reused version, or with ``dry_run`` only the plan."""

    name: str
    version: str | None
    tracking_uri: str
    created: bool
    dry_run: bool = False
    run_id: str | None = None
    model_uri: str | None = None
    promotion: PromotionPlan | None = None
    golden: tuple[GoldenResult, ...] = ()
    steps: tuple[str, ...] = field(default=())

    @property
    def registry_uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def signature_for(function: BusinessFunction, *, explain: bool = False) -> ModelSignature:
    """Return the model signature: the declared input and output columns, plus the explanation if asked."""
    outputs: list[ColSpec | TensorSpec] = [ColSpec(column.schema_type, column.name) for column in function.outputs]
    if explain:
        outputs.append(ColSpec("string", EXPLANATION_COLUMN))
    return ModelSignature(
        inputs=Schema([ColSpec(column.schema_type, column.name) for column in function.inputs]),
        outputs=Schema(outputs),
    )


def input_example_for(function: BusinessFunction, cases: Sequence[GoldenCase] = ()) -> pd.DataFrame:
    """Return three rows over the plot domain, or the golden-case inputs of a function of several columns."""
    if len(function.inputs) == 1 and function.input.type == "double":
        low, high = function.plot_domain
        return pd.DataFrame({function.input.name: np.linspace(low, high, 3)})
    if cases:
        return pd.DataFrame([case.inputs(function.inputs) for case in cases[:3]])
    return pd.DataFrame({column.name: [0.0 if column.type == "double" else ""] for column in function.inputs})


def pip_requirements() -> list[str]:
    """Pin what the logged model imports to the versions running now.

    Listing them saves MLflow from loading the model in a subprocess to infer them.
    """
    return [f"{package}=={metadata.version(package)}" for package in ("mlflow", "numpy", "pandas")]


def deploy(
    function: BusinessFunction,
    parameters: Mapping[str, object],
    *,
    name: str,
    stage: str | None = None,
    alias: str | None = None,
    experiment: str = DEFAULT_EXPERIMENT,
    golden: Sequence[GoldenCase] = (),
    reference: npt.NDArray[np.float64] | None = None,
    force: bool = False,
    dry_run: bool = False,
    explain: bool = False,
) -> Deployment:
    """Log, validate, register and promote ``function`` with ``parameters`` as a version of ``name``.

    ``golden`` adds cases to the function's own. With ``explain`` the
    version returns an extra ``explanation`` column naming the segment or
    rule behind each row. ``reference`` is a column of
    real data whose behaviour is logged as metrics. Parameters are validated
    before anything is written, and a failing golden case raises
    ValidationError before anything is registered.

    The model name and the stage are checked against the registry kind
    first: Unity Catalog accepts only three-part names and no stage.
    """
    values = function.validate(parameters)
    cases = (*function.golden_cases(values), *golden)
    store = use_store()
    check_registry_request(name, stage)
    if alias is not None:
        validate_alias(alias)
    lineage = lineage_tags(function, values, explain=explain)

    existing = _version_with_same_content(name, lineage)
    if existing is not None and not force:
        return _reuse(existing, store.display_uri, stage=stage, alias=alias, dry_run=dry_run)
    if dry_run:
        return Deployment(
            name=name,
            version=None,
            tracking_uri=store.display_uri,
            created=False,
            dry_run=True,
            steps=tuple(_new_version_steps(function, values, name, experiment, stage, alias)),
        )

    with registry_errors(f"deploying {function.name} as {name!r} to {store.display_uri}"):
        experiment_id = retry_when_locked(lambda: ensure_experiment(store, experiment), description="experiment")
        with mlflow.start_run(experiment_id=experiment_id) as run:
            run_id = run.info.run_id
            model_info = _log_model(function, values, lineage, cases, explain=explain)
            report = run_gate(model_info.model_uri, function, cases)
            metrics = reference_metrics(function, values, reference) if reference is not None else {}
            if metrics:
                mlflow.log_metrics(metrics)
        version = _register(name, function, values, run_id, model_info, lineage)
        _log_review_artifacts(function, values, name, version, run_id, report.results, lineage, metrics)

    logger.info("Logged model %s in run %s", model_info.model_uri, run_id)
    logger.info("Registered version %s of %r", version, name)

    promotion = None
    if stage is not None or alias is not None:
        promotion = promote(name, version, stage=stage, alias=alias)

    return Deployment(
        name=name,
        version=version,
        tracking_uri=store.display_uri,
        created=True,
        run_id=run_id,
        model_uri=model_info.model_uri,
        promotion=promotion,
        golden=report.results,
    )


def _version_with_same_content(name: str, lineage: Mapping[str, str]) -> RegisteredVersion | None:
    try:
        versions = list_versions(name)
    except ModelNotFoundError:
        return None
    for version in reversed(versions):
        same_parameters = version.tags.get(PARAMETERS_HASH_TAG) == lineage[PARAMETERS_HASH_TAG]
        if same_parameters and version.tags.get(CODE_HASH_TAG) == lineage[CODE_HASH_TAG]:
            return version
    return None


def _reuse(
    existing: RegisteredVersion, tracking_uri: str, *, stage: str | None, alias: str | None, dry_run: bool
) -> Deployment:
    logger.info(
        "Version %s of %r already contains this code and these parameters, so no version was added (use --force)",
        existing.version,
        existing.name,
    )
    promotion = None
    if stage is not None or alias is not None:
        promotion = promote(existing.name, existing.version, stage=stage, alias=alias, dry_run=dry_run)
    return Deployment(
        name=existing.name,
        version=existing.version,
        tracking_uri=tracking_uri,
        created=False,
        dry_run=dry_run,
        run_id=existing.run_id,
        model_uri=existing.source,
        promotion=promotion,
        steps=tuple(promotion.steps()) if promotion else (),
    )


def _new_version_steps(
    function: BusinessFunction,
    values: Mapping[str, Any],
    name: str,
    experiment: str,
    stage: str | None,
    alias: str | None,
) -> list[str]:
    arguments = describe_arguments(values)
    steps = [
        f"log {function.name}({arguments}) as a model in experiment {experiment!r}",
        "check its golden cases against the logged model in a fresh process",
        f"register it as a new version of {name!r}",
    ]
    try:
        versions = list_versions(name)
    except ModelNotFoundError:
        versions = []
    if stage is not None:
        steps.append(f"move the new version to {stage}")
        if stage in EXCLUSIVE_STAGES:
            steps.extend(f"archive version {v.version} (now {stage})" for v in versions if v.stage == stage)
    if alias is not None:
        holder = next((v.version for v in versions if alias in v.aliases), None)
        steps.append(f"point alias @{alias} " + (f"from version {holder} " if holder else "") + "to the new version")
    return steps


def _copy_source(destination: Path) -> Path:
    # Copy mlfunc without byte-code caches, so the logged code is source only.
    return _copy_code(Path(mlfunc.__file__).parent, destination)


def _copy_code(source: Path, destination: Path) -> Path:
    target = destination / source.name
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    else:
        destination.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return target


def _log_model(
    function: BusinessFunction,
    values: Mapping[str, Any],
    lineage: Mapping[str, str],
    cases: Sequence[GoldenCase],
    *,
    explain: bool,
) -> ModelInfo:
    # MLflow also logs the model config as run params. Logging the same values
    # first keeps the two identical, because MLflow rejects a changed param.
    config: dict[str, object] = {FUNCTION_KEY: function.reference or function.name, **config_values(function, values)}
    if explain:
        config[EXPLAIN_KEY] = True
    mlflow.log_params(config)
    mlflow.set_tags(dict(lineage))

    with tempfile.TemporaryDirectory(prefix="mlfunc-code-") as scratch:
        code_paths = [str(_copy_source(Path(scratch)))]
        # A function from the user's own module or package ships with the
        # model, so the version loads where that module is not installed.
        user_code = module_root(function)
        if user_code is not None:
            code_paths.append(str(_copy_code(user_code, Path(scratch) / "user")))
        info: ModelInfo = mlflow.pyfunc.log_model(
            name=MODEL_ARTIFACT_NAME,
            python_model=model_entry.__file__,
            code_paths=code_paths,
            model_config=config,
            signature=signature_for(function, explain=explain),
            input_example=input_example_for(function, cases),
            pip_requirements=pip_requirements(),
        )
    return info


def _register(
    name: str,
    function: BusinessFunction,
    values: Mapping[str, Any],
    run_id: str,
    model_info: ModelInfo,
    lineage: Mapping[str, str],
) -> str:
    client = mlflow.MlflowClient()

    def create_model() -> None:
        try:
            client.create_registered_model(name)
        except mlflow.exceptions.MlflowException as exc:
            # A previous deploy, or a concurrent one, created it already. Unity
            # Catalog reports ALREADY_EXISTS where the workspace registry
            # reports RESOURCE_ALREADY_EXISTS; MLflow 3.17's register_model accepts both.
            if exc.error_code not in ("RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"):
                raise

    retry_when_locked(create_model, description=f"creating registered model {name!r}")
    arguments = describe_arguments(values)
    version = retry_when_locked(
        lambda: client.create_model_version(
            name=name,
            source=model_info.model_uri,
            run_id=run_id,
            model_id=model_info.model_id,
            tags=dict(lineage),
            description=f"{function.name}({arguments}), deployed with mlfunc {mlfunc.__version__}",
        ),
        description=f"creating a version of {name!r}",
    )
    return str(version.version)


def _log_review_artifacts(
    function: BusinessFunction,
    values: Mapping[str, Any],
    name: str,
    version: str,
    run_id: str,
    golden: Sequence[GoldenResult],
    lineage: Mapping[str, str],
    metrics: Mapping[str, float],
) -> None:
    client = mlflow.MlflowClient()
    with tempfile.TemporaryDirectory(prefix="mlfunc-review-") as scratch:
        folder = Path(scratch)
        card = model_card(
            function=function,
            values=values,
            name=name,
            version=version,
            golden=golden,
            lineage=lineage,
            metrics=metrics,
        )
        (folder / MODEL_CARD_FILE).write_text(card)
        client.log_artifact(run_id, str(folder / MODEL_CARD_FILE))
        # Only a function of one number to one number has a curve to draw.
        if function.is_curve:
            plot_function(function, values, folder / PLOT_FILE, title=f"{name} version {version}")
            client.log_artifact(run_id, str(folder / PLOT_FILE))
