"""Scoring files batch by batch with the shared model: hybrid(x0=5, y0=2, gradient=1)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlfunc import batch_io
from mlfunc.batch import predict_file
from mlfunc.core import HYBRID
from mlfunc.errors import InputDataError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.tables import read_table
from tests.conftest import HYBRID_PARAMETERS

MODEL_URI = "models:/shared_model/Production"


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> int:
    """Make batches tiny, so that a file of a few hundred rows spans many of them."""
    monkeypatch.setattr(batch_io, "BATCH_ROWS", 64)
    monkeypatch.setattr(batch_io, "CSV_BLOCK_BYTES", 1024)
    monkeypatch.setattr(batch_io, "CSV_INFERENCE_BYTES", 1024)
    return 64


def mixed_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    x = rng.uniform(-10, 20, rows)
    x[::9] = np.nan
    return pd.DataFrame(
        {
            "id": np.arange(rows),
            "x": x,
            "colour": rng.choice(["red", "white", "rosé; dry", 'say "hi"'], rows),
        }
    )


def reference_output(path: Path, column: str) -> pd.DataFrame:
    """Score a file the way mlfunc did before it streamed: whole, in pandas."""
    frame, _ = read_table(path)
    frame["prediction"] = HYBRID(frame[column].to_numpy(dtype=np.float64), **HYBRID_PARAMETERS)
    return frame


def read_output(path: Path, sep: str = ",") -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, sep=sep, float_precision="round_trip")


@pytest.mark.parametrize("rows", [64, 65, 64 * 5, 64 * 5 - 1])
@pytest.mark.parametrize(
    ("source_suffix", "target_suffix"),
    [(".csv", ".csv"), (".csv", ".parquet"), (".parquet", ".parquet"), (".parquet", ".csv")],
)
def test_predict_file_streams_same_as_whole_file(
    deployed: Deployment, small_batches: int, tmp_path: Path, rows: int, source_suffix: str, target_suffix: str
) -> None:
    source = tmp_path / f"in{source_suffix}"
    frame = mixed_frame(rows)
    if source_suffix == ".csv":
        frame.to_csv(source, sep=";", index=False)
    else:
        frame.to_parquet(source, index=False)
    target = tmp_path / f"out{target_suffix}"

    result = predict_file(MODEL_URI, source, "x", target)

    expected = reference_output(source, "x")
    actual = read_output(target, sep=";" if source_suffix == ".csv" else ",")
    assert result.rows == rows
    assert result.null_predictions == int(expected["prediction"].isna().sum())
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_predict_file_csv_keeps_text_of_other_columns(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("code;x;note\n007;7.50;a, b\n010; 1e0 ;\n")
    target = tmp_path / "out.csv"
    predict_file(MODEL_URI, source, "x", target)
    assert target.read_text().splitlines() == ["code;x;note;prediction", "007;7.50;a, b;4.5", "010; 1e0 ;;2"]


def test_predict_file_drops_pandas_index_columns(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1.0, 7.0]}, index=pd.Index([5, 9], name="key")).to_parquet(source)
    target = tmp_path / "out.parquet"
    predict_file(MODEL_URI, source, "x", target)
    assert pd.read_parquet(target).columns.tolist() == ["x", "prediction"]


def test_predict_file_late_bad_value(deployed: Deployment, small_batches: int, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    lines = ["x", *(f"{value}.5" for value in range(400)), "oops", "1.0"]
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "out.csv"
    target.write_text("previous output\n")

    with pytest.raises(InputDataError, match=r"column 'x' in input file '.*in.csv' is not numeric .*'oops' at row 400"):
        predict_file(MODEL_URI, source, "x", target)
    assert target.read_text() == "previous output\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_predict_file_csv_type_change_into_parquet(deployed: Deployment, small_batches: int, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    lines = ["count;x", *(f"{value};{value}.5" for value in range(400)), "many;1.0"]
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "out.parquet"
    with pytest.raises(InputDataError, match=r"cannot read input file .*'many'.*write CSV output to keep every value"):
        predict_file(MODEL_URI, source, "x", target)
    assert not target.exists()


def test_predict_file_csv_column_empty_in_first_block(deployed: Deployment, small_batches: int, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    lines = ["note;x", *(f";{value}.5" for value in range(400)), "late;1.0"]
    source.write_text("\n".join(lines) + "\n")
    target = tmp_path / "out.parquet"
    predict_file(MODEL_URI, source, "x", target)
    scored = pd.read_parquet(target)
    assert scored["note"].iloc[-1] == "late"
    assert scored["prediction"].iloc[-1] == 2.0


def test_predict_file_parquet_text_column(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": ["1.0", "many"]}).to_parquet(source)
    with pytest.raises(InputDataError, match=r"column 'x' in input file .* is not numeric .*'many' at row 1"):
        predict_file(MODEL_URI, source, "x", tmp_path / "out.parquet")


def test_predict_file_rejects_boolean_column(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": [True, False]}).to_parquet(source)
    with pytest.raises(InputDataError, match=r"column 'x' in input file .* is not numeric \(found type bool\)"):
        predict_file(MODEL_URI, source, "x", tmp_path / "out.parquet")


def test_predict_file_empty_parquet(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    pd.DataFrame({"x": pd.Series([], dtype="float64")}).to_parquet(source)
    with pytest.raises(InputDataError, match=r"input file '.*in.parquet' has no data rows"):
        predict_file(MODEL_URI, source, "x", tmp_path / "out.parquet")


@pytest.mark.slow
def test_predict_command_shows_progress_on_terminal(deployed: Deployment, tmp_path: Path) -> None:
    source = tmp_path / "in.parquet"
    mixed_frame(1000).to_parquet(source, index=False)
    target = tmp_path / "out.parquet"
    arguments = ["predict", MODEL_URI, "--input", str(source), "--column", "x", "--output", str(target)]

    # stderr is a pseudo-terminal, as in an interactive shell; stdout is a pipe.
    # A new pseudo-terminal is 0 columns wide, in which tqdm draws nothing.
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(
        [sys.executable, "-m", "mlfunc", *arguments], stdout=subprocess.PIPE, stderr=terminal, env=os.environ.copy()
    ) as process:
        os.close(terminal)
        drawn = _read_all(controller)
        stdout, _ = process.communicate(timeout=120)

    assert process.returncode == 0, drawn
    assert "Scoring" in drawn
    assert "Wrote 1000 rows" in stdout.decode()


def _read_all(descriptor: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(descriptor, 4096)
        except OSError:  # Linux raises EIO once the other side of the terminal has closed.
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(descriptor)
    return b"".join(chunks).decode(errors="replace")
