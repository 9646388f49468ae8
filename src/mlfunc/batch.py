"""Scoring files: predictions from a model version for one column of a CSV or Parquet file.

Files are read, scored and written batch by batch, so memory stays flat
whatever the file's size (see :mod:`mlfunc.batch_io`).
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from tqdm import tqdm

from mlfunc.batch_io import BatchReader, check_input_column, column_values, null_count, open_batches, open_writer
from mlfunc.core.function import FloatArray
from mlfunc.errors import InputDataError
from mlfunc.tables import atomic_output, is_parquet, reject_output_over_input

if TYPE_CHECKING:
    from mlflow.pyfunc import PyFuncModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PredictionResult:
    """Summary of what ``predict_file`` wrote."""

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
    progress: bool = False,
) -> PredictionResult:
    """Apply the model at ``model_uri`` to ``column`` of a file and write the file with a prediction column.

    The output keeps every input column, adds ``output_column`` and uses the
    input's CSV delimiter (or Parquet, by the output's suffix). The column
    and the first batch are checked before the model loads, and nothing is
    written if any step fails, even after some batches. With ``progress``, a
    progress bar is drawn on stderr.
    """
    target = Path(output_path)
    reject_output_over_input(Path(input_path), target)
    reader = open_batches(input_path, sep=sep, text=not is_parquet(target))
    with ExitStack() as cleanup:
        cleanup.callback(reader.close)
        batches = _checked_batches(reader, column, output_column)

        # Imported here so that checking the file needs no MLflow import.
        from mlfunc.mlflow_adapter.loading import input_column_name, load_model

        model, version = load_model(model_uri)
        model_column = input_column_name(model) or column
        bar = cleanup.enter_context(
            tqdm(
                total=reader.progress_total,
                unit=reader.progress_unit,
                unit_scale=True,
                desc="Scoring",
                disable=not progress,
                leave=False,
            )
        )

        rows = nulls = 0
        output_schema = reader.schema.append(pa.field(output_column, pa.float64()))
        with (
            atomic_output(target) as temporary,
            open_writer(temporary, target, output_schema, delimiter=reader.delimiter) as writer,
        ):
            for batch in batches:
                predictions = _score(model, model_column, batch, column, source=reader.source, first_row=rows)
                writer.write(batch.append_column(output_column, pa.array(predictions, from_pandas=True)))
                rows += batch.num_rows
                nulls += null_count(predictions)
                bar.update(reader.progress_position() - bar.n)

    logger.info("Wrote %d predictions (%d null) to %s", rows, nulls, target)
    return PredictionResult(
        rows=rows,
        null_predictions=nulls,
        output=target,
        version=version.version if version else None,
    )


def _checked_batches(reader: BatchReader, column: str, output_column: str) -> Iterator[pa.RecordBatch]:
    # Check what can be checked before the model loads: the column, the name
    # of the new column, and that there is a first batch of numbers.
    check_input_column(reader, column)
    if output_column in reader.schema.names:
        raise InputDataError(
            f"output column {output_column!r} already exists in {reader.source}: "
            "choose another name with --output-column"
        )

    batches = iter(reader)
    first = next((batch for batch in batches if batch.num_rows > 0), None)
    if first is None:
        raise InputDataError(f"{reader.source} has no data rows: expected at least one row below the header")
    column_values(first, column, source=reader.source, first_row=0)
    return itertools.chain([first], batches)


def _score(
    model: PyFuncModel, model_column: str, batch: pa.RecordBatch, column: str, *, source: str, first_row: int
) -> FloatArray:
    from mlfunc.mlflow_adapter.loading import prediction_values

    values = column_values(batch, column, source=source, first_row=first_row)
    return prediction_values(model.predict(pd.DataFrame({model_column: values}, copy=False)))
