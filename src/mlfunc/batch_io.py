"""Reading and writing CSV and Parquet files in batches of rows, with pyarrow.

Memory stays flat whatever the file's size: a reader keeps about one batch
in memory and a writer writes each batch as it comes.

A CSV file that is scored into a CSV file is read as text: every column
other than the scored one keeps its exact text, and the scored column is
parsed as float64 batch by batch. Parquet output needs typed columns, so a
CSV file scored into Parquet gets the column types that pyarrow infers from
the file's first block (see ``CSV_INFERENCE_BYTES``).
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from mlfunc.core.function import FloatArray
from mlfunc.errors import InputDataError
from mlfunc.tables import detect_delimiter, is_parquet

# Rows per batch read from a Parquet file and per row group written to one.
BATCH_ROWS = 256 * 1024
# Parquet pages are read through a buffer of this size, see _open_parquet.
PARQUET_READ_BUFFER_BYTES = 1024 * 1024
# pyarrow's default (1 MiB) lets a column of unique values fill a whole
# dictionary page before falling back to plain encoding, which made writing
# 10 million rows about four times slower. A small limit keeps dictionaries
# for columns of few distinct values and gives up early on the others.
DICTIONARY_PAGE_BYTES = 64 * 1024
# Bytes of CSV text parsed at a time. pyarrow reads a few dozen blocks ahead
# of the one being scored, so the block size bounds memory: 8 MiB blocks kept
# about 250 MiB of a large file in memory, 1 MiB blocks about 40 MiB.
CSV_BLOCK_BYTES = 1024 * 1024
# Bytes of CSV text from which pyarrow infers column types, for Parquet output.
CSV_INFERENCE_BYTES = 8 * 1024 * 1024
# The strings pandas reads as missing values by default, so that a CSV file
# gets the same missing values as with pandas.read_csv.
NULL_TEXTS = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


@dataclass
class BatchReader:
    """An open input file: its schema, its batches, and how far reading has got.

    ``progress_total`` and ``progress_position`` are in ``progress_unit``:
    rows for Parquet, bytes for CSV, whose row count is unknown until the end.
    """

    path: Path
    schema: pa.Schema
    delimiter: str | None
    batches: Iterable[pa.RecordBatch]
    progress_unit: str
    progress_total: int
    # Added to errors raised while reading batches: what may have caused them.
    read_error_hint: str = ""
    _handle: IO[bytes] | None = None
    _rows_read: int = 0

    @property
    def source(self) -> str:
        """The file's name as error messages show it."""
        return f"input file '{self.path}'"

    def progress_position(self) -> int:
        if self._handle is not None:
            return self._handle.tell()
        return self._rows_read

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        try:
            for batch in self.batches:
                self._rows_read += batch.num_rows
                yield batch
        except (OSError, pa.ArrowException) as exc:
            raise InputDataError(f"cannot read input file '{self.path}': {exc}{self.read_error_hint}") from exc

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()


def open_batches(path: str | Path, *, sep: str | None = None, text: bool = False) -> BatchReader:
    """Open a CSV or Parquet file (by suffix) for reading in batches.

    With ``text``, every column of a CSV file is read as text. Raises
    InputDataError for a missing, empty or unreadable file.
    """
    source = Path(path)
    if not source.is_file():
        raise InputDataError(f"input file '{source}' not found or not a regular file")
    if is_parquet(source):
        return _open_parquet(source)
    return _open_csv(source, sep or detect_delimiter(source), text=text)


def _open_parquet(source: Path) -> BatchReader:
    try:
        # With pre_buffer (its default), pyarrow 25 keeps the column chunks it
        # has read until the file closes, so memory grew with the file: about
        # 10 MB per million rows of two columns. Without it, pages are read
        # through a bounded buffer as needed, and memory stays flat even
        # within a large row group.
        parquet = pq.ParquetFile(source, pre_buffer=False, buffer_size=PARQUET_READ_BUFFER_BYTES)
    except (OSError, pa.ArrowException) as exc:
        raise InputDataError(f"cannot read input file '{source}': {exc}") from exc

    schema = parquet.schema_arrow
    # pandas stores a DataFrame's index (other than a plain range) as extra
    # columns. Like reading with pandas and writing with index=False, scoring
    # drops them.
    index_columns = {name for name in (schema.pandas_metadata or {}).get("index_columns", []) if isinstance(name, str)}
    columns = [name for name in schema.names if name not in index_columns]
    schema = pa.schema([schema.field(name) for name in columns])
    batches = parquet.iter_batches(batch_size=BATCH_ROWS, columns=columns)
    return BatchReader(source, schema, None, batches, "rows", parquet.metadata.num_rows)


def _open_csv(source: Path, delimiter: str, *, text: bool) -> BatchReader:
    header = _read_header(source, delimiter)
    convert = pa_csv.ConvertOptions(null_values=list(NULL_TEXTS), strings_can_be_null=True)
    hint = ""
    try:
        if text:
            convert.column_types = {name: pa.string() for name in header}
        else:
            # Infer the types from one large block, then read with them fixed.
            # A column with no values in that block would be typed as null and
            # fail on the first value after it, so it is read as text.
            probe = _csv_reader(str(source), delimiter, convert, block_bytes=CSV_INFERENCE_BYTES)
            convert.column_types = {
                field.name: pa.string() if pa.types.is_null(field.type) else field.type for field in probe.schema
            }
            hint = (
                f". Column types of a CSV file scored into Parquet come from its first "
                f"{CSV_INFERENCE_BYTES // (1024 * 1024)} MiB; write CSV output to keep every value as text"
            )
        handle = source.open("rb")
    except (OSError, pa.ArrowException) as exc:
        raise InputDataError(f"cannot read input file '{source}': {exc}") from exc
    try:
        reader = _csv_reader(handle, delimiter, convert, block_bytes=CSV_BLOCK_BYTES)
    except (OSError, pa.ArrowException) as exc:
        handle.close()
        raise InputDataError(f"cannot read input file '{source}': {exc}") from exc

    size = source.stat().st_size
    return BatchReader(source, reader.schema, delimiter, reader, "B", size, read_error_hint=hint, _handle=handle)


def _csv_reader(
    handle: IO[bytes] | str, delimiter: str, convert: pa_csv.ConvertOptions, *, block_bytes: int
) -> pa_csv.CSVStreamingReader:
    return pa_csv.open_csv(
        handle,
        read_options=pa_csv.ReadOptions(block_size=block_bytes),
        # Like pandas, accept quoted values that span lines.
        parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=convert,
    )


def _read_header(source: Path, delimiter: str) -> list[str]:
    with source.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        header = next(csv.reader(handle, delimiter=delimiter), None)
    if not header:
        raise InputDataError(f"input file '{source}' is empty: expected a header line and at least one row")
    return header


def check_input_column(reader: BatchReader, column: str) -> None:
    """Raise InputDataError unless ``column`` exists and its type can hold numbers."""
    if column not in reader.schema.names:
        available = ", ".join(repr(name) for name in reader.schema.names)
        raise InputDataError(f"column {column!r} not found in {reader.source}: available columns are {available}")

    column_type = reader.schema.field(column).type
    if not (_is_number_type(column_type) or pa.types.is_string(column_type) or pa.types.is_large_string(column_type)):
        raise InputDataError(
            f"column {column!r} in {reader.source} is not numeric (found type {column_type}): "
            "choose a numeric column with --column or clean the file"
        )


def column_values(batch: pa.RecordBatch, column: str, *, source: str, first_row: int) -> FloatArray:
    """Return ``column`` of ``batch`` as float64, with NaN for missing values.

    Text is parsed as numbers. Raises InputDataError naming the first value
    that is not a number and its row (counted from 0 at the file's first data
    row, given the batch's ``first_row``).
    """
    values = batch.column(column)
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        values = _parse_numbers(values, column, source=source, first_row=first_row)
    elif not _is_number_type(values.type):
        raise InputDataError(
            f"column {column!r} in {source} is not numeric (found type {values.type}): "
            "choose a numeric column with --column or clean the file"
        )

    # Integers beyond 2**53 round to the nearest float64, as pandas' astype does.
    numbers = pc.cast(values, pa.float64(), safe=False)
    result: FloatArray = numbers.to_numpy(zero_copy_only=False)
    return result


def _is_number_type(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
        or pa.types.is_null(data_type)
    )


def _parse_numbers(texts: pa.Array, column: str, *, source: str, first_row: int) -> pa.Array:
    # pandas accepts spaces around a number, and so does mlfunc.
    trimmed = pc.utf8_trim_whitespace(texts)
    try:
        return pc.cast(trimmed, pa.float64())
    except pa.ArrowInvalid as exc:
        found = _first_non_number(trimmed)
        example = f"first non-numeric value {found[1]!r} at row {first_row + found[0]}" if found else str(exc)
        raise InputDataError(
            f"column {column!r} in {source} is not numeric ({example}): "
            "choose a numeric column with --column or clean the file"
        ) from exc


def _first_non_number(texts: pa.Array) -> tuple[int, str] | None:
    # Only on the error path: pyarrow's cast names no row, so find it one value at a time.
    for index, value in enumerate(texts.to_pylist()):
        if value is None:
            continue
        try:
            pc.cast(pa.array([value]), pa.float64())
        except pa.ArrowInvalid:
            return index, value
    return None


class BatchWriter(Protocol):
    """Writes batches to a file, then closes it."""

    def write(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> None: ...


@contextlib.contextmanager
def open_writer(path: Path, target: Path, schema: pa.Schema, *, delimiter: str | None) -> Iterator[BatchWriter]:
    """Open a writer of CSV or Parquet (by the suffix of ``target``) at ``path``, and close it after the block.

    ``path`` is usually the temporary file of :func:`mlfunc.tables.atomic_output`,
    whose name has another suffix, so the format comes from ``target``.
    """
    writer: BatchWriter
    if is_parquet(target):
        writer = pq.ParquetWriter(path, schema, dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)
    else:
        writer = CsvBatchWriter(path.open("wb"), delimiter or ",")
    try:
        yield writer
    finally:
        writer.close()


class CsvBatchWriter:
    """Write batches as CSV the way pandas' ``to_csv`` does, but faster.

    Values are quoted only where they need it, and missing values are empty
    fields. Text columns are written as they are, see :func:`_as_text`.
    """

    def __init__(self, handle: IO[bytes], delimiter: str) -> None:
        self._handle = handle
        self._delimiter = delimiter
        self._special = (delimiter, '"', "\r", "\n")
        self._header_written = False

    def write(self, batch: pa.RecordBatch) -> None:
        texts = _as_text(batch)
        if texts is None or self._any_needs_quotes(texts):
            # Typed columns, or values with a delimiter, quote or line break:
            # pandas formats and quotes them, at a fraction of pyarrow's speed.
            frame = (batch if texts is None else texts).to_pandas()
            text = frame.to_csv(sep=self._delimiter, index=False, header=not self._header_written)
            self._handle.write(text.encode("utf-8"))
            self._header_written = True
            return

        if not self._header_written:
            self._write_header(batch.schema.names)
        options = pa_csv.WriteOptions(include_header=False, delimiter=self._delimiter, quoting_style="none")
        pa_csv.write_csv(texts, self._handle, write_options=options)

    def close(self) -> None:
        self._handle.close()

    def _write_header(self, names: list[str]) -> None:
        # pyarrow quotes every name of a header, pandas only those that need it.
        line = io.StringIO()
        csv.writer(line, delimiter=self._delimiter, lineterminator="\n").writerow(names)
        self._handle.write(line.getvalue().encode("utf-8"))
        self._header_written = True

    def _any_needs_quotes(self, texts: pa.RecordBatch) -> bool:
        # One plain substring search per character is faster than one regular expression.
        return any(
            pc.any(pc.match_substring(column, character)).as_py()
            for column in texts.columns
            for character in self._special
        )


def _as_text(batch: pa.RecordBatch) -> pa.RecordBatch | None:
    """Return ``batch`` with its float64 columns as text, or None if it has columns of other types.

    A CSV file scored into CSV is read as text, so its only number column is
    the prediction. pyarrow writes each float in its shortest form that reads
    back to the same value ("2" where pandas writes "2.0"), several times
    faster than Python's repr.
    """
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type):
            columns.append(column)
        elif pa.types.is_float64(column.type):
            # NaN, which pyarrow would write as "nan", is a missing value like null.
            numbers = pc.if_else(pc.is_nan(column), pa.scalar(None, pa.float64()), column)
            columns.append(pc.cast(numbers, pa.string()))
        else:
            return None
    return pa.record_batch(columns, names=batch.schema.names)


def null_count(values: FloatArray) -> int:
    """Return how many of ``values`` are NaN."""
    return int(np.count_nonzero(np.isnan(values)))
