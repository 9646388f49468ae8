"""Naming the input column behind a request that MLflow's scoring app rejected.

MLflow's messages name the column for most payloads, but not for a CSV body
with text in a numeric column, nor for an ``inputs`` list, and for a JSON
object without a payload field they name the fields expected but not the
ones found. These functions
run only after MLflow has rejected a request: they parse the body again with
MLflow's own parsers, without the model signature, and look for the first
required column that is missing or not numeric.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pandas as pd
from mlflow.pyfunc import scoring_server
from mlflow.types import ColSpec, DataType, Schema

from mlfunc.serving.guard import JSON_MEDIA_TYPE, PAYLOAD_FIELDS, media_type

NUMERIC_TYPES = frozenset({DataType.double, DataType.float, DataType.long, DataType.integer})
CSV_MEDIA_TYPE = "text/csv"


def explain_rejection(body: bytes, content_type: str, schema: Schema | None) -> str | None:
    """Return a message naming the missing or non-numeric input column of a request, or None."""
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return None
    columns = [spec for spec in schema.inputs if isinstance(spec, ColSpec) and spec.required]

    media = media_type(content_type)
    if media == JSON_MEDIA_TYPE:
        field_problem = _payload_field_problem(body)
        if field_problem is not None:
            return field_problem

    frame = _parse_without_schema(body, media)
    if frame is None:
        return None
    # MLflow gives an unnamed single column (an ``inputs`` list) the name of the only input.
    if len(columns) == 1 and len(frame.columns) == 1 and isinstance(frame.columns, pd.RangeIndex):
        frame = frame.set_axis([columns[0].name], axis="columns")

    for spec in columns:
        problem = _column_problem(frame, spec, [str(column.name) for column in columns])
        if problem is not None:
            return problem
    return None


def _payload_field_problem(body: bytes) -> str | None:
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    fields = [name for name in payload if name in scoring_server.SUPPORTED_FORMATS]
    if len(fields) == 1:
        return None
    found = ", ".join(repr(str(name)) for name in payload) or "none"
    return f"the request must have exactly one of the fields {PAYLOAD_FIELDS}: found {found}"


def _parse_without_schema(body: bytes, media: str) -> pd.DataFrame | None:
    # Any failure means the body is broken in a way MLflow's message already
    # describes, so the explanation is skipped rather than raised.
    try:
        if media == CSV_MEDIA_TYPE:
            parsed: Any = scoring_server.parse_csv_input(io.StringIO(body.decode("utf-8")))
        elif media == JSON_MEDIA_TYPE:
            parsed = scoring_server.infer_and_parse_data(json.loads(body))
        else:
            return None
        if isinstance(parsed, pd.DataFrame):
            return parsed
        return pd.DataFrame(np.asarray(parsed) if isinstance(parsed, list) else parsed)
    except Exception:
        return None


def _column_problem(frame: pd.DataFrame, spec: ColSpec, expected: list[str]) -> str | None:
    name = str(spec.name)
    if name not in frame.columns:
        found = ", ".join(repr(str(column)) for column in frame.columns) or "none"
        return (
            f"required input column {name!r} is missing: the request has columns {found}, "
            f"the model expects {', '.join(map(repr, expected))}"
        )

    if not isinstance(spec.type, DataType) or spec.type not in NUMERIC_TYPES:
        return None
    values = frame[name]
    numeric = pd.to_numeric(values, errors="coerce")
    bad = values[numeric.isna() & values.notna()]
    if bad.empty:
        return None
    row = frame.index.get_loc(bad.index[0])
    return f"input column {name!r} must be numeric ({spec.type.name}): found {bad.iloc[0]!r} in row {row}"
