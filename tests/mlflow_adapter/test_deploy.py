"""Deploying to a real SQLite-backed MLflow store in a temp folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from mlfunc.core import HYBRID
from mlfunc.errors import ModelNotFoundError, ParameterError, RegistryError
from mlfunc.mlflow_adapter.deploy import Deployment, deploy
from mlfunc.mlflow_adapter.loading import load_model, prediction_values
from mlfunc.mlflow_adapter.registry import list_versions
from tests.conftest import HYBRID_PARAMETERS


def test_deploy_logs_parameters_as_run_params(deployed: Deployment) -> None:
    run = mlflow.MlflowClient().get_run(deployed.run_id)
    assert run.data.params == {"function": "hybrid", "x0": "5.0", "y0": "2.0", "gradient": "1.0"}


def test_deploy_tags_run_with_function_and_git(deployed: Deployment) -> None:
    tags = mlflow.MlflowClient().get_run(deployed.run_id).data.tags
    assert tags["mlfunc.function"] == "hybrid"
    assert json.loads(tags["mlfunc.parameters"]) == {"gradient": 1.0, "x0": 5.0, "y0": 2.0}
    # The tests run inside the project's git checkout.
    assert len(tags["mlfunc.git.commit"]) == 40
    assert tags["mlfunc.git.dirty"] in ("true", "false")


def test_deploy_registers_signature_and_example(deployed: Deployment) -> None:
    model, _ = load_model(deployed.registry_uri)
    inputs = model.metadata.get_input_schema().to_dict()
    outputs = model.metadata.get_output_schema().to_dict()
    assert inputs == [{"type": "double", "name": "x", "required": True}]
    assert outputs == [{"type": "double", "name": "y", "required": True}]
    assert model.metadata.saved_input_example_info is not None


def test_deploy_packages_source_not_pickle(deployed: Deployment) -> None:
    local = Path(mlflow.artifacts.download_artifacts(deployed.model_uri))
    assert (local / "code" / "mlfunc" / "core" / "hybrid.py").is_file()
    assert not list(local.rglob("*.pkl"))
    assert not list(local.rglob("__pycache__"))


def test_deploy_promotes_to_production_and_alias(deployed: Deployment) -> None:
    versions = {version.version: version for version in list_versions("shared_model")}
    assert versions[deployed.version].stage == "Production"
    assert versions[deployed.version].aliases == ("champion",)


@pytest.mark.parametrize("uri", ["models:/shared_model/Production", "models:/shared_model@champion"])
def test_load_by_stage_and_alias(deployed: Deployment, uri: str) -> None:
    model, version = load_model(uri)
    assert version is not None
    assert version.version == deployed.version
    predictions = prediction_values(model.predict(pd.DataFrame({"x": [1.0, 5.0, 7.5, None]})))
    assert predictions[:3].tolist() == [2.0, 2.0, 4.5]
    assert pd.isna(predictions[3])


def test_redeploy_archives_previous_production(mlfunc_home: Path) -> None:
    first = deploy(HYBRID, {"x0": 1, "y0": 0, "gradient": 1}, name="archive_model", stage="Production")
    second = deploy(HYBRID, {"x0": 2, "y0": 0, "gradient": 1}, name="archive_model", stage="Production")
    stages = {version.version: version.stage for version in list_versions("archive_model")}
    assert stages == {first.version: "Archived", second.version: "Production"}


def test_deploy_invalid_parameter_writes_nothing(mlfunc_home: Path) -> None:
    with pytest.raises(ParameterError, match="'gradient'"):
        deploy(HYBRID, {"x0": 1, "y0": 0, "gradient": float("inf")}, name="never_created")
    with pytest.raises(ModelNotFoundError, match="registered model 'never_created' not found"):
        list_versions("never_created")


@pytest.mark.slow
def test_version_loads_without_mlfunc_on_path(deployed: Deployment, tmp_path: Path) -> None:
    # A clean interpreter whose sys.path has the site-packages of this venv
    # but neither the source tree nor the editable install of mlfunc.
    script = f"""
import sys
sys.path = [p for p in sys.path if 'mlfunc' not in p and not p.endswith('/src')]
import importlib.util
assert importlib.util.find_spec('mlfunc') is None, 'mlfunc is importable'
import mlflow, pandas as pd
mlflow.set_tracking_uri({mlflow.get_tracking_uri()!r})
model = mlflow.pyfunc.load_model('models:/shared_model/Production')
print(model.predict(pd.DataFrame({{'x': [1.0, 8.0]}})).iloc[:, 0].tolist())
"""
    completed = subprocess.run(
        [sys.executable, "-S", "-c", _with_site_packages(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == "[2.0, 5.0]"


def _with_site_packages(script: str) -> str:
    # -S skips site.py, which would process the editable install's .pth file.
    # Adding the site-packages folder by hand leaves that .pth unprocessed.
    import sysconfig

    site_packages = sysconfig.get_paths()["purelib"]
    return f"import sys; sys.path.append({site_packages!r})\n" + script


def test_name_with_both_quotes_is_refused_before_registering(mlfunc_home: Path) -> None:
    name = "c'\"q"
    with pytest.raises(RegistryError, match="contains both kinds of quote"):
        deploy(HYBRID, HYBRID_PARAMETERS, name=name, alias="champion")
    assert name not in [model.name for model in mlflow.MlflowClient().search_registered_models()]
