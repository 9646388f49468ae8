"""Reading files in batches: the column types, the numbers parsed from text, the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfunc.batch_io import BatchWriter, check_input_column, column_values, open_batches
from mlfunc.errors import InputDataError

doubles = st.floats(allow_nan=False, allow_infinity=False)
formats = st.sampled_from(["{!r}", "{:.17g}", "{:.3e}", "{:.6f}", "{:g}"])


@settings(deadline=None, max_examples=50)
@given(numbers=st.lists(st.tuples(doubles, formats), min_size=1, max_size=30))
def test_column_values_parses_text_exactly(tmp_path_factory: pytest.TempPathFactory, numbers: list) -> None:
    texts = [layout.format(number) for number, layout in numbers]
    path = tmp_path_factory.mktemp("parse") / "numbers.csv"
    path.write_text("x\n" + "\n".join(texts) + "\n")

    reader = open_batches(path, text=True)
    parsed = np.concatenate([column_values(batch, "x", source="test", first_row=0) for batch in reader])
    reader.close()

    # Python's float() rounds correctly, as pandas' round-trip parser does for
    # numbers it reads as floats (it reads some integers beyond 2**64 as text).
    assert parsed.tolist() == [float(text) for text in texts]


def test_open_batches_reads_csv_as_text(wine_csv: Path) -> None:
    reader = open_batches(wine_csv, text=True)
    assert reader.delimiter == ";"
    assert reader.schema.names == ["fixed acidity", "alcohol", "colour"]
    assert all(pa.types.is_string(field.type) for field in reader.schema)
    reader.close()


def test_open_batches_infers_csv_types(wine_csv: Path) -> None:
    reader = open_batches(wine_csv)
    assert [str(field.type) for field in reader.schema] == ["double", "double", "string"]
    reader.close()


def test_column_values_missing_values_are_nan(wine_csv: Path) -> None:
    reader = open_batches(wine_csv, text=True)
    values = np.concatenate([column_values(batch, "alcohol", source="wine", first_row=0) for batch in reader])
    reader.close()
    assert np.isnan(values).tolist() == [False, False, False, True, False]


def test_column_values_names_first_text_value(wine_csv: Path) -> None:
    reader = open_batches(wine_csv, text=True)
    batch = next(iter(reader))
    with pytest.raises(InputDataError, match=r"column 'colour' in wine is not numeric .*'red' at row 10"):
        column_values(batch, "colour", source="wine", first_row=10)
    reader.close()


def test_check_input_column_lists_columns(wine_csv: Path) -> None:
    reader = open_batches(wine_csv, text=True)
    with pytest.raises(InputDataError, match=r"column 'sugar' not found .*'fixed acidity', 'alcohol', 'colour'"):
        check_input_column(reader, "sugar")
    reader.close()


@pytest.mark.parametrize("content", [b"", b"\n\n"], ids=["empty", "blank-lines"])
def test_open_batches_empty_csv(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(InputDataError, match=r"input file '.*empty.csv' is empty"):
        open_batches(path)


def test_open_batches_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputDataError, match=r"cannot read input file '.*broken.parquet'"):
        open_batches(path)


def test_open_batches_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"input file '.*absent.parquet' not found"):
        open_batches(tmp_path / "absent.parquet")


def test_batch_writer_csv_header_once(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    batch = pa.record_batch({"x": [1.5, None], "note": ["a;b", None]})
    with BatchWriter(path, path, batch.schema, delimiter=";") as writer:
        writer.write(batch)
        writer.write(batch)
    assert path.read_text().splitlines() == ["x;note", '1.5;"a;b"', ";", '1.5;"a;b"', ";"]
