"""Evaluating a business function on Arrow arrays: the Python path of Spark SQL and DuckDB.

Both engines hand a Python function one Arrow array per argument, with
nulls kept apart from NaN. The function is evaluated on numpy arrays like
everywhere else, and a row whose output is NaN because one of its inputs
was null becomes null again, as the compiled SQL gives (see
:mod:`mlfunc.core.sql`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlfunc.core import BusinessFunction
from mlfunc.core.function import EXPLANATION_COLUMN, Column
from mlfunc.errors import InputDataError

_ARROW_TYPES = {"double": pa.float64(), "string": pa.string()}


def output_columns(function: BusinessFunction, *, explain: bool) -> tuple[Column, ...]:
    """Return the columns the Python path returns: the outputs, and the explanation when asked for."""
    if not explain:
        return function.outputs
    return (*function.outputs, Column(EXPLANATION_COLUMN, "string", "the segment or rule that gave the output"))


def evaluate_arrow(
    function: BusinessFunction, parameters: Mapping[str, Any], arrays: list[Any], *, explain: bool = False
) -> pa.Array:
    """Evaluate ``function`` on one Arrow array per input column; return one array, or a struct for several outputs.

    Integer and DECIMAL inputs of a double column are converted to double
    first, as the compiled SQL does.
    """
    columns = [_to_numpy(function.name, column, array) for column, array in zip(function.inputs, arrays, strict=True)]
    result = function.evaluate(*columns, **parameters)
    outputs = dict(result) if isinstance(result, Mapping) else {function.output.name: result}
    if explain:
        outputs[EXPLANATION_COLUMN] = function.explanations(columns, parameters)

    null_input = _any_null(arrays)
    returned = output_columns(function, explain=explain)
    converted = [_to_arrow(column, outputs[column.name], null_input) for column in returned]
    if len(converted) == 1:
        return converted[0]
    return pa.StructArray.from_arrays(converted, names=[column.name for column in returned])


def _to_numpy(function: str, column: Column, array: Any) -> Any:
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if column.numeric and pa.types.is_decimal(array.type):
        # Arrow's DECIMAL to double cast can miss the nearest double by one
        # unit in the last place (128.9063 becomes 128.90630000000002), where
        # Spark, DuckDB and Python find it. Parsing the digits finds it too.
        array = array.cast(pa.string())
    # An integer beyond 2**53 rounds to the nearest double, as SQL's cast
    # does; Arrow's safe cast would refuse it.
    try:
        typed = array.cast(_ARROW_TYPES[column.type], safe=not pa.types.is_integer(array.type))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputDataError(
            f"function {function!r} takes a {column.type} for its input {column.name!r}, got a column of "
            f"Arrow type {array.type} ({exc}): pass a {column.type} column or CAST it in the query"
        ) from exc
    # Nulls become NaN in a double column and None in a string column.
    return typed.to_numpy(zero_copy_only=False)


def _any_null(arrays: list[Any]) -> Any:
    # One boolean per row, or None when no input has a null (the common case).
    masks = [array.is_null() for array in arrays if array.null_count]
    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = pc.or_(combined, mask)
    return combined.to_numpy(zero_copy_only=False)


def _to_arrow(column: Column, values: Any, null_input: Any) -> pa.Array:
    if column.type == "string":
        return pa.array(values, type=pa.string())
    doubles = np.asarray(values, dtype=np.float64)
    mask = None if null_input is None else null_input & np.isnan(doubles)
    array = pa.array(doubles, type=pa.float64(), mask=mask)
    if column.type == "decimal":
        # The doubles are already rounded to the scale, so their shortest
        # digits are the decimal value exactly.
        return array.cast(pa.string()).cast(pa.decimal128(column.precision or 1, column.scale or 0))
    return array
