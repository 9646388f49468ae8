"""Reading files in batches: the column types, the numbers parsed from text, the errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfunc.batch_io import check_input_column, column_values, open_batches, open_writer
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


def test_open_writer_csv_quotes_only_where_needed(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    plain = pa.record_batch({"name; unit": ["7.40", None], "y": [2.5, float("nan")]})
    special = pa.record_batch({"name; unit": ['say "hi"', "a;b"], "y": [1e-07, 3.5]})
    with open_writer(path, path, plain.schema, delimiter=";") as writer:
        writer.write(plain)
        writer.write(special)
        writer.write(plain)
    assert path.read_text().splitlines() == [
        '"name; unit";y',
        "7.40;2.5",
        ";",
        '"say ""hi""";1e-7',
        '"a;b";3.5',
        "7.40;2.5",
        ";",
    ]


@settings(deadline=None, max_examples=50)
@given(numbers=st.lists(st.floats(allow_infinity=False), min_size=1, max_size=20))
def test_open_writer_csv_floats_read_back_exactly(tmp_path_factory: pytest.TempPathFactory, numbers: list) -> None:
    path = tmp_path_factory.mktemp("write") / "out.csv"
    batch = pa.record_batch({"label": ["a"] * len(numbers), "y": pa.array(numbers, type=pa.float64())})
    with open_writer(path, path, batch.schema, delimiter=",") as writer:
        writer.write(batch)
    read_back = pd.read_csv(path, float_precision="round_trip")["y"].to_numpy()
    assert np.array_equal(read_back, np.array(numbers), equal_nan=True)


def test_open_writer_csv_typed_columns_as_pandas(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": [1, 2, 3], "y": [0.1, 1e22, float("nan")]})
    batch = pa.RecordBatch.from_pandas(frame, preserve_index=False)
    path = tmp_path / "out.csv"
    with open_writer(path, path, batch.schema, delimiter=",") as writer:
        writer.write(batch)
    assert path.read_text() == frame.to_csv(index=False)
