"""The validation gate, lineage, reuse of identical versions and review artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pytest

from mlfunc.core import HYBRID, GoldenCase
from mlfunc.errors import ModelNotFoundError, ValidationError
from mlfunc.mlflow_adapter.deploy import MODEL_CARD_FILE, PLOT_FILE, Deployment, deploy
from mlfunc.mlflow_adapter.gate import run_gate
from mlfunc.mlflow_adapter.lineage import code_hash, parameters_hash, strip_credentials
from mlfunc.mlflow_adapter.registry import list_versions


def test_failing_golden_case_blocks_registration(mlfunc_home: Path) -> None:
    wrong = GoldenCase(x=10.0, expected=999.0, tolerance=0.5)
    with pytest.raises(ValidationError) as caught:
        deploy(HYBRID, {"x0": 5, "y0": 2, "gradient": 1}, name="gated_model", stage="Production", golden=[wrong])
    message = str(caught.value)
    assert "1 of 4 golden cases failed" in message
    assert "nothing was registered" in message
    assert "x=10.0: expected 999.0 (tolerance 0.5), got 7.0" in message

    with pytest.raises(ModelNotFoundError):
        list_versions("gated_model")
    runs = mlflow.search_runs(experiment_names=["mlfunc"], filter_string="params.x0 = '5.0'", output_format="list")
    assert any(run.info.status == "FAILED" for run in runs)


def test_gate_loads_logged_code_in_fresh_process(deployed: Deployment) -> None:
    assert deployed.model_uri is not None
    report = run_gate(deployed.model_uri, HYBRID, [GoldenCase(x=7.0, expected=4.0)])
    assert report.mlfunc_origin is not None
    assert "/code/mlfunc/__init__.py" in report.mlfunc_origin
    assert [result.passed for result in report.results] == [True]


def test_golden_case_tolerance_and_nan() -> None:
    assert GoldenCase(x=1.0, expected=2.0, tolerance=0.1).passes(2.05)
    assert not GoldenCase(x=1.0, expected=2.0).passes(2.05)
    assert GoldenCase(x=float("nan"), expected=float("nan")).passes(float("nan"))
    assert not GoldenCase(x=1.0, expected=2.0, tolerance=1.0).passes(float("nan"))


def test_deployment_records_lineage_tags(deployed: Deployment) -> None:
    version = next(v for v in list_versions("shared_model") if v.version == deployed.version)
    values = {"x0": 5.0, "y0": 2.0, "gradient": 1.0}
    assert version.tags["mlfunc.parameters_hash"] == parameters_hash(HYBRID, values)
    assert version.tags["mlfunc.code_hash"] == code_hash(HYBRID)
    assert version.tags["mlfunc.python"].count(".") == 2
    assert version.tags["mlfunc.version"] == "0.1.0"
    assert len(version.tags["mlfunc.git.commit"]) == 40


def test_parameters_hash_ignores_order() -> None:
    first = parameters_hash(HYBRID, {"x0": 1.0, "y0": 2.0, "gradient": 3.0})
    second = parameters_hash(HYBRID, {"gradient": 3.0, "y0": 2.0, "x0": 1.0})
    assert first == second
    assert first != parameters_hash(HYBRID, {"x0": 1.0, "y0": 2.0, "gradient": 3.5})


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://user:token@github.com/acme/rules.git", "https://github.com/acme/rules.git"),
        ("https://token@github.com/acme/rules.git", "https://github.com/acme/rules.git"),
        ("git@github.com:acme/rules.git", "git@github.com:acme/rules.git"),
    ],
)
def test_strip_credentials_from_remote(url: str, expected: str) -> None:
    assert strip_credentials(url) == expected


def test_same_content_reuses_version(mlfunc_home: Path) -> None:
    parameters = {"x0": 3, "y0": 1, "gradient": 2}
    first = deploy(HYBRID, parameters, name="reuse_model")
    second = deploy(HYBRID, parameters, name="reuse_model")
    assert first.created
    assert not second.created
    assert second.version == first.version
    assert [v.version for v in list_versions("reuse_model")] == [first.version]

    forced = deploy(HYBRID, parameters, name="reuse_model", force=True)
    assert forced.created
    assert forced.version != first.version


def test_dry_run_changes_nothing(mlfunc_home: Path) -> None:
    plan = deploy(HYBRID, {"x0": 1, "y0": 1, "gradient": 1}, name="dry_model", stage="Production", dry_run=True)
    assert plan.dry_run
    assert plan.version is None
    assert "register it as a new version of 'dry_model'" in plan.steps
    with pytest.raises(ModelNotFoundError):
        list_versions("dry_model")


def test_review_artifacts_logged(deployed: Deployment) -> None:
    assert deployed.run_id is not None
    folder = Path(mlflow.artifacts.download_artifacts(run_id=deployed.run_id, artifact_path=""))
    card = (folder / MODEL_CARD_FILE).read_text()
    assert "# shared_model version" in card
    assert "| `x0` | 5.0 |" in card
    assert "| 5.0 | 2.0 | 2.0 | pass |" in card
    assert f'mlflow.pyfunc.load_model("models:/shared_model/{deployed.version}")' in card
    assert "mlflow models serve" in card
    assert (folder / PLOT_FILE).read_bytes().startswith(b"\x89PNG")


def test_reference_metrics_logged(mlfunc_home: Path) -> None:
    reference = np.array([1.0, 4.0, 5.0, 9.0, np.nan])
    deployment = deploy(
        HYBRID, {"x0": 5, "y0": 2, "gradient": 1}, name="reference_model", reference=reference, force=True
    )
    assert deployment.run_id is not None
    metrics = mlflow.MlflowClient().get_run(deployment.run_id).data.metrics
    assert metrics["reference_rows"] == 5
    assert metrics["reference_rows_segment_0"] == 2
    assert metrics["reference_rows_segment_1"] == 2
    assert metrics["reference_null_inputs"] == 1
    assert metrics["reference_null_outputs"] == 1
    assert metrics["reference_output_min"] == 2.0
    assert metrics["reference_output_max"] == 6.0
    assert metrics["reference_output_mean"] == pytest.approx((2 + 2 + 2 + 6) / 4)
    tags = mlflow.MlflowClient().get_run(deployment.run_id).data.tags
    assert json.loads(tags["mlfunc.parameters"]) == {"gradient": 1.0, "x0": 5.0, "y0": 2.0}
