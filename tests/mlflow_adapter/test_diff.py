from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlfunc.core import HYBRID
from mlfunc.errors import ModelNotFoundError
from mlfunc.mlflow_adapter.deploy import deploy
from mlfunc.mlflow_adapter.diff import ParameterChange, diff_versions


@pytest.fixture(scope="module")
def two_versions(mlfunc_home: Path) -> tuple[str, str]:
    first = deploy(HYBRID, {"x0": 5, "y0": 2, "gradient": 1}, name="diff_model")
    second = deploy(HYBRID, {"x0": 6, "y0": 2, "gradient": 1}, name="diff_model")
    return str(first.version), str(second.version)


def test_diff_on_grid(two_versions: tuple[str, str]) -> None:
    old, new = two_versions
    diff = diff_versions("diff_model", old, new)
    assert diff.parameter_changes == (ParameterChange("x0", 5.0, 6.0),)
    assert not diff.code_changed
    assert diff.max_abs_change == 1.0
    assert 0 < diff.rows_changed < diff.rows
    assert len(diff.examples) == 5
    assert diff.examples["x"].between(5.0, 6.0).all() or (diff.examples["x"] >= 6.0).all()


def test_diff_on_reference(two_versions: tuple[str, str]) -> None:
    old, new = two_versions
    reference = np.array([1.0, 5.5, 7.0, np.nan])
    diff = diff_versions("diff_model", old, new, reference=reference, reference_label="test data")
    # 1.0 is constant in both; 5.5 moves from 2.5 to 2.0; 7.0 from 4.0 to 3.0; NaN stays NaN.
    assert diff.rows == 4
    assert diff.rows_changed == 2
    assert diff.max_abs_change == 1.0
    assert diff.examples["x"].tolist() == [7.0, 5.5]
    assert diff.inputs == "test data"


def test_diff_same_version_changes_nothing(two_versions: tuple[str, str]) -> None:
    old, _ = two_versions
    diff = diff_versions("diff_model", old, old)
    assert diff.parameter_changes == ()
    assert diff.rows_changed == 0
    assert diff.max_abs_change == 0.0
    assert diff.examples.empty


def test_diff_missing_version(two_versions: tuple[str, str]) -> None:
    with pytest.raises(ModelNotFoundError, match=r"version '42' of registered model 'diff_model' not found"):
        diff_versions("diff_model", "1", "42")
