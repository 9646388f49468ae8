from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlfunc.errors import InputDataError
from mlfunc.tables import atomic_output, detect_delimiter, numeric_column, read_table, write_table


def test_read_table_detects_semicolon(wine_csv: Path) -> None:
    frame, sep = read_table(wine_csv)
    assert sep == ";"
    assert list(frame.columns) == ["fixed acidity", "alcohol", "colour"]
    assert len(frame) == 5


def test_detect_delimiter_defaults_to_comma(tmp_path: Path) -> None:
    path = tmp_path / "single.csv"
    path.write_text("x\n1\n2\n")
    assert detect_delimiter(path) == ","


def test_read_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match=r"input file '.*nope.csv' not found"):
        read_table(tmp_path / "nope.csv")


def test_read_table_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(InputDataError, match=r"input file '.*empty.csv' is empty"):
        read_table(path)


def test_read_table_header_only(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("x,y\n")
    with pytest.raises(InputDataError, match="has no data rows"):
        read_table(path)


def test_read_table_parquet_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    write_table(pd.DataFrame({"x": [1.0, 2.0]}), path)
    frame, sep = read_table(path)
    assert sep is None
    assert frame["x"].tolist() == [1.0, 2.0]


def test_read_table_corrupt_parquet(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(InputDataError, match=r"cannot read input file '.*broken.parquet'"):
        read_table(path)


def test_numeric_column_missing_lists_columns(wine_csv: Path) -> None:
    frame, _ = read_table(wine_csv)
    with pytest.raises(InputDataError) as caught:
        numeric_column(frame, "sugar", source="wine.csv")
    message = str(caught.value)
    assert "column 'sugar' not found in wine.csv" in message
    assert "'fixed acidity', 'alcohol', 'colour'" in message


def test_numeric_column_rejects_text(wine_csv: Path) -> None:
    frame, _ = read_table(wine_csv)
    with pytest.raises(InputDataError, match=r"column 'colour' in wine.csv is not numeric.*'red' at row 0"):
        numeric_column(frame, "colour", source="wine.csv")


def test_numeric_column_keeps_missing_as_nan(wine_csv: Path) -> None:
    frame, _ = read_table(wine_csv)
    values = numeric_column(frame, "alcohol", source="wine.csv")
    assert values.dtype == "float64"
    assert values.isna().sum() == 1


def test_atomic_output_leaves_nothing_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_atomic_output_keeps_existing_file_on_error(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("previous")
    with pytest.raises(RuntimeError), atomic_output(target):
        raise RuntimeError("interrupted")
    assert target.read_text() == "previous"
    assert [path.name for path in tmp_path.iterdir()] == ["out.csv"]


def test_write_table_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(InputDataError, match="folder '.*missing' does not exist"):
        write_table(pd.DataFrame({"x": [1]}), tmp_path / "missing" / "out.csv")
