"""Shared fixtures: one throwaway MLflow store and one local Spark session per test run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlfunc.core import HYBRID

HYBRID_PARAMETERS = {"x0": 5.0, "y0": 2.0, "gradient": 1.0}


@pytest.fixture(scope="session", autouse=True)
def mlfunc_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point mlfunc's embedded store at a temp folder and hide any real tracking server or registry setting."""
    home = tmp_path_factory.mktemp("mlfunc-home")
    names = ("MLFUNC_HOME", "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", "MLFUNC_REGISTRY")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["MLFUNC_HOME"] = str(home)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    os.environ.pop("MLFUNC_REGISTRY", None)
    yield home
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def deployed(mlfunc_home: Path) -> object:
    """Deploy hybrid(x0=5, y0=2, gradient=1) once as 'shared_model' in Production with alias champion."""
    from mlfunc.mlflow_adapter.deploy import deploy

    return deploy(HYBRID, HYBRID_PARAMETERS, name="shared_model", stage="Production", alias="champion")


@pytest.fixture(scope="session")
def spark(mlfunc_home: Path) -> Iterator[object]:
    """One local Spark session for the whole run, started the way the CLI starts it."""
    from mlfunc.spark_adapter.session import get_spark

    session = get_spark("mlfunc-tests")
    yield session
    session.stop()


@pytest.fixture
def wine_csv(tmp_path: Path) -> Path:
    """A small `;`-delimited CSV shaped like the UCI wine quality files: quoted names with spaces."""
    path = tmp_path / "wine.csv"
    path.write_text(
        '"fixed acidity";"alcohol";"colour"\n7.4;9.4;red\n7.8;4.5;red\n11.2;5.0;red\n6.9;;red\n7.4;12.8;red\n'
    )
    return path


@pytest.fixture
def restore_registry_setting() -> Iterator[None]:
    """Undo a test's use_registry() call by restoring MLFUNC_REGISTRY.

    On the embedded store use_registry() sets only this variable, because it
    changes MLflow's registry URI only beside a Databricks tracking URI.
    """
    saved = os.environ.get("MLFUNC_REGISTRY")
    yield
    if saved is None:
        os.environ.pop("MLFUNC_REGISTRY", None)
    else:
        os.environ["MLFUNC_REGISTRY"] = saved


DISCOUNT_PARAMETERS = {
    "rules": [
        {"when": {"quantity": {"min": 100}, "tier": ["gold"]}, "then": {"rate": 0.2}},
        {"when": {"quantity": {"min": 10, "max": 100}}, "then": {"rate": 0.1}},
    ],
    "default": {"rate": 0.0},
}


@pytest.fixture(scope="session")
def explained_discount(mlfunc_home: Path) -> object:
    """Deploy the discount table with an explanation column as 'explained_discount' with alias champion.

    The explanation has no SQL translation, so this version runs on the Python path.
    """
    from mlfunc.core import DISCOUNT
    from mlfunc.mlflow_adapter.deploy import deploy

    return deploy(DISCOUNT, DISCOUNT_PARAMETERS, name="explained_discount", alias="champion", explain=True)


@pytest.fixture(scope="session")
def original_model(mlfunc_home: Path) -> str:
    """Log and register the original demo's pickled HybridFunction as 'original_model'; return its URI."""
    import mlflow

    from mlfunc import HybridFunction
    from mlfunc.mlflow_adapter.store import use_store

    use_store()
    with mlflow.start_run():
        mlflow.pyfunc.log_model(
            name="model", python_model=HybridFunction(x0=5, y0=2, gradient=1), registered_model_name="original_model"
        )
    return "models:/original_model/1"
