"""Scoring files: predictions from a model version for one column of a CSV or Parquet file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mlfunc.errors import InputDataError
from mlfunc.tables import numeric_column, read_table, write_table

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionResult:
    """What ``predict_file`` wrote."""

    rows: int
    null_predictions: int
    output: Path
    version: str | None


def predict_file(
    model_uri: str,
    input_path: str | Path,
    column: str,
    output_path: str | Path,
    *,
    sep: str | None = None,
    output_column: str = "prediction",
) -> PredictionResult:
    """Apply the model at ``model_uri`` to ``column`` of a file and write the file with a prediction column.

    The output keeps every input column, adds ``output_column`` and uses the
    input's CSV delimiter (or Parquet, by the output's suffix). Input is
    checked before the model loads, and nothing is written if any step fails.
    """
    frame, used_sep = read_table(input_path, sep=sep)
    values = numeric_column(frame, column, source=f"input file '{input_path}'")
    if output_column in frame.columns:
        raise InputDataError(
            f"output column {output_column!r} already exists in input file '{input_path}': "
            "choose another name with --output-column"
        )

    # Imported here so that reading and checking the file needs no MLflow import.
    from mlfunc.mlflow_adapter.loading import input_column_name, load_model, prediction_values

    model, version = load_model(model_uri)
    model_column = input_column_name(model) or column
    predictions = model.predict(pd.DataFrame({model_column: values}))

    result = frame.copy()
    result[output_column] = prediction_values(predictions)
    write_table(result, output_path, sep=used_sep)

    nulls = int(result[output_column].isna().sum())
    logger.info("Wrote %d predictions (%d null) to %s", len(result), nulls, output_path)
    return PredictionResult(
        rows=len(result),
        null_predictions=nulls,
        output=Path(output_path),
        version=version.version if version else None,
    )
