"""`mlfunc invoke` and the client module, against the real `mlfunc serve` process."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from mlfunc.cli import main
from mlfunc.core import HYBRID
from mlfunc.errors import ServingError
from mlfunc.serving.client import payload_for, scoring_url
from tests.conftest import HYBRID_PARAMETERS
from tests.serving.conftest import ServerProcess

RED_WINE_COLUMNS = [
    "fixed acidity",
    "volatile acidity",
    "citric acid",
    "residual sugar",
    "chlorides",
    "free sulfur dioxide",
    "total sulfur dioxide",
    "density",
    "pH",
    "sulphates",
    "alcohol",
    "quality",
]


@pytest.fixture
def red_wine_csv(tmp_path: Path) -> Path:
    """A `;`-delimited file with the red wine quality file's quoted header, random values and a few gaps."""
    generator = np.random.default_rng(7)
    frame = pd.DataFrame(generator.uniform(0.0, 16.0, size=(400, len(RED_WINE_COLUMNS))), columns=RED_WINE_COLUMNS)
    frame["quality"] = generator.integers(3, 9, size=len(frame))
    frame.loc[[3, 50, 399], "fixed acidity"] = np.nan
    path = tmp_path / "winequality-red.csv"
    header = ";".join(f'"{name}"' for name in RED_WINE_COLUMNS)
    rows = frame.to_csv(sep=";", header=False, index=False)
    path.write_text(f"{header}\n{rows}")
    return path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.mark.slow
def test_invoke_round_trips_red_wine(server: ServerProcess, red_wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scored.csv"
    result = invoke(
        "invoke", server.base_url, "--input", str(red_wine_csv), "--column", "fixed acidity", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Wrote 400 rows with 3 null predictions to {output}\n"

    original = pd.read_csv(red_wine_csv, sep=";", float_precision="round_trip")
    scored = pd.read_csv(output, sep=";", float_precision="round_trip")
    assert list(scored.columns) == [*RED_WINE_COLUMNS, "prediction"]
    pd.testing.assert_frame_equal(scored[RED_WINE_COLUMNS], original)
    expected = HYBRID(original["fixed acidity"].to_numpy(), **HYBRID_PARAMETERS)
    np.testing.assert_array_equal(scored["prediction"].to_numpy(), expected)


@pytest.mark.slow
def test_invoke_prints_json(server: ServerProcess, wine_csv: Path) -> None:
    result = invoke("invoke", server.url, "--input", str(wine_csv), "--column", "alcohol")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout, parse_constant=lambda token: pytest.fail(f"bare {token} in output"))
    alcohol = pd.read_csv(wine_csv, sep=";")["alcohol"].to_numpy()
    expected = [None if np.isnan(y) else y for y in HYBRID(alcohol, **HYBRID_PARAMETERS).tolist()]
    assert printed == {"predictions": [{"prediction": y} for y in expected]}
    assert expected[3] is None


@pytest.mark.slow
def test_invoke_whole_table_parquet(server: ServerProcess, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x,note\n1,a\n7,b\n,c\n")
    output = tmp_path / "out.parquet"
    result = invoke("invoke", server.url, "--input", str(source), "--output", str(output), "--output-column", "y")
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(output)
    assert list(scored.columns) == ["x", "note", "y"]
    assert scored["y"].tolist()[:2] == [2.0, 4.0]
    assert scored["y"].isna().tolist() == [False, False, True]


@pytest.mark.slow
def test_invoke_server_rejection(server: ServerProcess, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = invoke("invoke", server.url, "--input", str(wine_csv), "--output", str(output))
    assert result.exit_code == 1, result.output
    last = result.stderr.splitlines()[-1]
    assert last.startswith(f"Error: the scoring server at {server.url} rejected the request with HTTP 400")
    assert "required input column 'x' is missing" in last
    assert not output.exists()


@pytest.mark.slow
def test_invoke_non_numeric_column(server: ServerProcess, wine_csv: Path) -> None:
    result = invoke("invoke", server.url, "--input", str(wine_csv), "--column", "colour")
    assert result.exit_code == 1, result.output
    assert "column 'colour'" in result.stderr
    assert "is not numeric" in result.stderr


def test_invoke_server_down(wine_csv: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port once the probe is closed.
    result = invoke("invoke", f"http://127.0.0.1:{port}", "--input", str(wine_csv), "--column", "alcohol")
    assert result.exit_code == 1, result.output
    assert f"cannot reach the scoring server at http://127.0.0.1:{port}/invocations" in result.stderr
    assert "mlfunc serve MODEL_URI" in result.stderr


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001/invocations"),
        ("http://127.0.0.1:5001/", "http://127.0.0.1:5001/invocations"),
        (
            "https://host.example/serving-endpoints/m/invocations",
            "https://host.example/serving-endpoints/m/invocations",
        ),
    ],
)
def test_scoring_url_adds_path(url: str, expected: str) -> None:
    assert scoring_url(url) == expected


@pytest.mark.parametrize("url", ["127.0.0.1:5001", "ftp://127.0.0.1/", "http://"])
def test_scoring_url_invalid(url: str) -> None:
    with pytest.raises(ServingError, match="invalid server URL"):
        scoring_url(url)


def test_payload_missing_values_are_null() -> None:
    frame = pd.DataFrame({"x": [1.5, np.nan, np.inf], "n": pd.array([1, None, 3], dtype="Int64")})
    column = json.loads(payload_for(frame, "x"))
    table = json.loads(payload_for(frame, None))
    assert column == {"inputs": [1.5, None, None]}
    assert table == {"dataframe_split": {"columns": ["x", "n"], "data": [[1.5, 1], [None, None], [None, 3]]}}
