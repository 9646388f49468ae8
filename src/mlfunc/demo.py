"""The main job: deploy the hybrid function, then run it from pandas and from Spark SQL on real data.

The data is the UCI wine recognition data set that ships with scikit-learn
(178 wines, 13 measurements each), so the demo needs no download.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlfunc.core import HYBRID
from mlfunc.errors import ModelNotFoundError

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

MODEL_NAME = "custom_model"
SQL_FUNCTION = "custom_model_udf"
DEMO_PARAMETERS = {"x0": 5.0, "y0": 2.0, "gradient": 1.0}
# color_intensity ranges from about 1.3 to 13, so rows fall on both sides of x0 = 5.
DEMO_COLUMN = "color_intensity"
DEMO_QUERY = f"SELECT {DEMO_COLUMN}, {SQL_FUNCTION}({DEMO_COLUMN}) AS prediction FROM wine"

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    """Versions the demo deployed and the predictions it computed."""

    version: str
    archived_version: str | None
    pandas_predictions: pd.DataFrame
    spark_predictions: pd.DataFrame


def load_wine_frame() -> pd.DataFrame:
    """Return scikit-learn's copy of the UCI wine data as a DataFrame."""
    from sklearn.datasets import load_wine

    frame: pd.DataFrame = load_wine(as_frame=True).frame
    return frame


def run_demo(echo: Echo) -> DemoResult:
    """Deploy, promote, load and query the hybrid function, reporting each step through ``echo``."""
    from mlfunc.mlflow_adapter.deploy import deploy
    from mlfunc.mlflow_adapter.loading import load_model, prediction_values
    from mlfunc.mlflow_adapter.registry import resolve_version
    from mlfunc.mlflow_adapter.store import use_store

    store = use_store()
    wine = load_wine_frame()

    echo(f"1. Deploying hybrid(x0=5, y0=2, gradient=1) as {MODEL_NAME!r} to {store.display_uri}")
    try:
        previous = resolve_version(f"models:/{MODEL_NAME}/Production")
    except ModelNotFoundError:
        previous = None
    deployment = deploy(HYBRID, DEMO_PARAMETERS, name=MODEL_NAME, stage="Production", alias="champion")
    version = str(deployment.version)
    if deployment.created:
        echo(f"   run {deployment.run_id}: parameters logged, model {deployment.model_uri}")
        echo(f"   {len(deployment.golden)} golden cases passed on the logged model, loaded in a fresh process")
        echo(f"   registered version {version}, moved to stage Production with alias @champion")
    else:
        echo(f"   version {version} already holds this code and these parameters, so it is reused")
    archived = previous.version if previous is not None and previous.version != version else None
    if archived is not None:
        echo(f"   version {archived} was in Production and is now Archived")

    uri = f"models:/{MODEL_NAME}/Production"
    echo(f"\n2. Loading {uri} with mlflow.pyfunc.load_model and predicting on pandas")
    model, _ = load_model(uri)
    sample = _sample_both_segments(wine)
    predicted = model.predict(pd.DataFrame({HYBRID.input.name: sample[DEMO_COLUMN].to_numpy()}))
    pandas_result = pd.DataFrame(
        {DEMO_COLUMN: sample[DEMO_COLUMN].to_numpy(), "prediction": prediction_values(predicted)}
    )
    echo(_indent(pandas_result.to_string(index=False)))

    echo(f"\n3. Registering models:/{MODEL_NAME}@champion as Spark SQL function {SQL_FUNCTION}")
    spark_result = _query_with_spark(wine, echo)

    _check_agreement(model, spark_result)
    echo(f"   Spark SQL and pandas give the same prediction on all {len(spark_result)} rows")

    echo("\n4. The registry")
    if store.embedded:
        echo(f"   database:  {store.database}")
        echo(f"   artifacts: {store.artifact_root}")
    else:
        echo(f"   tracking server: {store.display_uri}")
    echo(f"   open the MLflow UI with: {store.ui_command()}")

    return DemoResult(
        version=version,
        archived_version=archived,
        pandas_predictions=pandas_result,
        spark_predictions=spark_result,
    )


def _query_with_spark(wine: pd.DataFrame, echo: Echo) -> pd.DataFrame:
    from mlfunc.spark_adapter.session import get_spark, spark_log_path
    from mlfunc.spark_adapter.sql import register_sql_function, run_query, spark_errors

    spark = get_spark("mlfunc-demo")
    echo(f"   Spark {spark.version} running locally (its log: {spark_log_path()})")
    registered = register_sql_function(spark, SQL_FUNCTION, f"models:/{MODEL_NAME}@champion")
    echo(f"   {registered.describe()}")
    with spark_errors("creating the wine table"):
        spark.createDataFrame(wine[[DEMO_COLUMN]]).createOrReplaceTempView("wine")

    echo(f"   {DEMO_QUERY}")
    with spark_errors("running the demo query"):
        result = run_query(spark, DEMO_QUERY).toPandas()
    shown = result.sort_values(DEMO_COLUMN).iloc[np.linspace(0, len(result) - 1, 8).astype(int)]
    echo(_indent(shown.to_string(index=False)))
    echo(f"   ({len(result)} rows, 8 shown, sorted by {DEMO_COLUMN})")
    return result


def _sample_both_segments(wine: pd.DataFrame) -> pd.DataFrame:
    ordered = wine.sort_values(DEMO_COLUMN)
    positions = np.linspace(0, len(ordered) - 1, 6).astype(int)
    return ordered.iloc[positions]


def _check_agreement(model: PyFuncModel, spark_result: pd.DataFrame) -> None:
    from mlfunc.mlflow_adapter.loading import prediction_values

    # The same version run by two engines must give identical numbers, so any
    # difference is a bug worth stopping the demo for.
    inputs = pd.DataFrame({HYBRID.input.name: spark_result[DEMO_COLUMN].to_numpy(dtype=np.float64)})
    expected = prediction_values(model.predict(inputs))
    actual = spark_result["prediction"].to_numpy(dtype=np.float64)
    if not np.array_equal(expected, actual, equal_nan=True):
        mismatched = int(np.sum(expected != actual))
        raise RuntimeError(f"Spark SQL and pandas predictions differ on {mismatched} of {len(actual)} rows")


def _indent(text: str) -> str:
    return "\n".join(f"   {line}" for line in text.splitlines())
