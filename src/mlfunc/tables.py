"""Reading input tables from CSV or Parquet and writing results atomically."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mlfunc.core import GoldenCase
from mlfunc.errors import InputDataError

PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
CANDIDATE_DELIMITERS = ",;\t|"
# csv.Sniffer takes time that grows with the square of its sample: 5 s on
# 64 KiB of numbers, 0.03 s on 4 KiB (on a busy 2-core machine).
_SNIFF_BYTES = 4 * 1024


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in PARQUET_SUFFIXES


def detect_delimiter(path: Path) -> str:
    """Guess the delimiter of a CSV file from its first lines, defaulting to a comma."""
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        sample = handle.read(_SNIFF_BYTES)
    if not sample.strip():
        raise InputDataError(f"input file '{path}' is empty: expected a header line and at least one row")
    # Whole lines only, unless the first line is longer than the sample.
    sample = sample[: sample.rfind("\n") + 1] or sample
    try:
        return csv.Sniffer().sniff(sample, delimiters=CANDIDATE_DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_table(path: str | os.PathLike[str], *, sep: str | None = None) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV or Parquet file and return it with the CSV delimiter used (None for Parquet).

    Raises InputDataError for a missing, unreadable or empty file.
    """
    source = Path(path)
    if not source.is_file():
        raise InputDataError(f"input file '{source}' not found or not a regular file")

    try:
        if is_parquet(source):
            frame, used_sep = pd.read_parquet(source), None
        else:
            used_sep = sep or detect_delimiter(source)
            # pandas' default float parser can be off by one unit in the last
            # place; the round-trip parser reads each number exactly, as Spark does.
            frame = pd.read_csv(source, sep=used_sep, float_precision="round_trip")
    except InputDataError:
        raise
    except pd.errors.EmptyDataError as exc:
        raise InputDataError(f"input file '{source}' is empty: expected a header line and at least one row") from exc
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputDataError(f"cannot read input file '{source}': {exc}") from exc

    if frame.empty:
        raise InputDataError(f"input file '{source}' has no data rows: expected at least one row below the header")
    return frame, used_sep


def numeric_column(frame: pd.DataFrame, column: str, *, source: str) -> pd.Series:
    """Return ``column`` of ``frame`` as float64, or raise InputDataError naming it.

    Missing values stay NaN. ``source`` names the file or table in messages.
    """
    if column not in frame.columns:
        available = ", ".join(repr(str(name)) for name in frame.columns)
        raise InputDataError(f"column {column!r} not found in {source}: available columns are {available}")

    values = frame[column]
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        numeric = pd.to_numeric(values, errors="coerce")
        bad = values[numeric.isna() & values.notna()]
        example = f"; first non-numeric value {bad.iloc[0]!r} at row {bad.index[0]}" if len(bad) else ""
        raise InputDataError(
            f"column {column!r} in {source} is not numeric (found dtype {values.dtype}{example}): "
            "choose a numeric column with --column or clean the file"
        )
    return values.astype("float64")


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` that replaces it only if the block succeeds.

    On any error the temporary file is removed and ``path`` is left untouched,
    so a failed command never leaves a half-written output file.
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise InputDataError(f"cannot write output file '{target}': folder '{target.parent}' does not exist")

    handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    os.close(handle)
    temporary = Path(temporary_name)
    # mkstemp creates the file readable by its owner only; give it the
    # permissions a plain open() would, as the replaced file is the user's output.
    temporary.chmod(0o666 & ~_current_umask())
    try:
        yield temporary
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def reject_output_over_input(source: Path, target: Path) -> None:
    """Raise InputDataError if writing ``target`` would replace the input file ``source``."""
    same = target.exists() and source.exists() and os.path.samefile(source, target)
    if same or source.resolve() == target.resolve():
        raise InputDataError(f"output file '{target}' is the input file '{source}': write the result to another file")


@dataclass(frozen=True)
class QueryResult:
    """A SQL query's result, collected in memory as an Arrow table, which keeps null apart from NaN."""

    table: pa.Table

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)

    @property
    def frame(self) -> pd.DataFrame:
        """The result in pandas, where a null double becomes NaN."""
        frame: pd.DataFrame = self.table.to_pandas()
        return frame

    def preview(self, rows: int) -> str:
        """Return the first ``rows`` rows as text, showing null as <NA> and NaN as NaN.

        Numbers are shown in their shortest exact form (``1e+308``, not 309 digits).
        """
        frame = self.table.slice(0, rows).to_pandas(types_mapper=pd.ArrowDtype)
        return str(frame.to_string(index=False, float_format=repr))


QUERY_OUTPUT_SUFFIXES = (".csv", *sorted(PARQUET_SUFFIXES))


def check_query_files(tables: Mapping[str, str], output: str | os.PathLike[str] | None) -> None:
    """Check a query's table files and output before any engine starts, so a typo costs no query."""
    for path in tables.values():
        if not Path(path).is_file():
            raise InputDataError(f"table file '{path}' not found or not a regular file")
        if output is not None:
            reject_output_over_input(Path(path), Path(output))
    if output is None:
        return
    target = Path(output)
    if target.suffix.lower() not in QUERY_OUTPUT_SUFFIXES:
        raise InputDataError(
            f"cannot write output file '{target}': expected a name ending in {', '.join(QUERY_OUTPUT_SUFFIXES)}, "
            f"got {target.suffix or 'no suffix'!r}"
        )
    if not target.parent.is_dir():
        raise InputDataError(f"cannot write output file '{target}': folder '{target.parent}' does not exist")


def write_arrow_table(table: pa.Table, path: str | os.PathLike[str]) -> None:
    """Write ``table`` as Parquet or CSV (chosen by suffix) without leaving a partial file.

    NaN stays apart from null: in CSV, NaN is written ``nan`` and null as an
    empty field.
    """
    target = Path(path)
    if not is_parquet(target):
        table = _flat_columns(table, target)
    with atomic_output(target) as temporary:
        if is_parquet(target):
            pq.write_table(table, temporary)
        else:
            pa_csv.write_csv(table, temporary, pa_csv.WriteOptions(quoting_style="needed"))


def _flat_columns(table: pa.Table, target: Path) -> pa.Table:
    # CSV has no nested values: a struct column, such as a model's outputs
    # with an explanation, becomes one column per field ("result.explanation").
    while any(pa.types.is_struct(field.type) for field in table.schema):
        table = table.flatten()
    nested = [field for field in table.schema if pa.types.is_nested(field.type)]
    if nested:
        raise InputDataError(
            f"cannot write column {nested[0].name!r} of type {nested[0].type} to CSV file '{target}': "
            "write Parquet (.parquet) instead, or select its elements in the query"
        )
    return table


def write_table(frame: pd.DataFrame, path: str | os.PathLike[str], *, sep: str | None = None) -> None:
    """Write ``frame`` as Parquet or CSV (chosen by suffix) without leaving a partial file."""
    target = Path(path)
    with atomic_output(target) as temporary:
        if is_parquet(target):
            frame.to_parquet(temporary, index=False)
        else:
            frame.to_csv(temporary, sep=sep or ",", index=False)


GOLDEN_COLUMNS = ("x", "expected")


def read_golden_cases(path: str | os.PathLike[str]) -> list[GoldenCase]:
    """Read golden cases from a CSV or Parquet file with columns ``x``, ``expected`` and optional ``tolerance``."""
    frame, _ = read_table(path)
    source = f"golden-case file '{path}'"
    missing = [column for column in GOLDEN_COLUMNS if column not in frame.columns]
    if missing:
        found = ", ".join(repr(str(name)) for name in frame.columns)
        raise InputDataError(
            f"{source} lacks column {missing[0]!r}: expected columns x, expected and optionally tolerance, "
            f"found {found}"
        )

    x = numeric_column(frame, "x", source=source)
    expected = numeric_column(frame, "expected", source=source)
    tolerance = numeric_column(frame, "tolerance", source=source).fillna(0.0) if "tolerance" in frame else None
    return [
        GoldenCase(
            x=float(x.iloc[row]),
            expected=float(expected.iloc[row]),
            tolerance=float(tolerance.iloc[row]) if tolerance is not None else 0.0,
        )
        for row in range(len(frame))
    ]
