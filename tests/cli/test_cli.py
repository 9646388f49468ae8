"""The mlfunc command line, run in-process with click's runner and once as a real process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner, Result

from mlfunc.cli import main
from mlfunc.core import HYBRID
from mlfunc.mlflow_adapter.deploy import Deployment
from tests.conftest import HYBRID_PARAMETERS


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    # list_commands and get_command also see subcommands that a group builds on first use.
    context = click.Context(group)
    found = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, (*prefix, name)))
    return found


@pytest.mark.parametrize("command", [(), *_all_commands(main)], ids=lambda parts: " ".join(parts) or "mlfunc")
def test_every_command_has_help_with_example(command: tuple[str, ...]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "mlfunc" in result.output.split("Example:")[1]


def assert_one_line_error(result: Result, *fragments: str) -> None:
    """Check for exit code 1 and a last stderr line `Error: ...`, after at most some INFO lines."""
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: "), result.stderr
    assert [line for line in lines if line.startswith("Error")] == [lines[-1]]
    assert "Traceback" not in result.stderr
    assert '"level": "ERROR"' not in result.stderr
    for fragment in fragments:
        assert fragment in lines[-1]


def test_deploy_command_creates_version(mlfunc_home: Path) -> None:
    result = invoke(
        "deploy",
        "hybrid",
        "--x0",
        "1",
        "--y0",
        "0",
        "--gradient",
        "2",
        "--name",
        "cli_model",
        "--stage",
        "production",
        "--alias",
        "champion",
    )
    assert result.exit_code == 0, result.output
    assert "Deployed models:/cli_model/1" in result.stdout
    assert "Moved version 1 of 'cli_model' to stage Production" in result.stderr


def test_deploy_command_nan_parameter(mlfunc_home: Path) -> None:
    result = invoke("deploy", "hybrid", "--x0", "nan", "--y0", "0", "--gradient", "2", "--name", "nan_model")
    assert_one_line_error(result, "invalid parameter 'x0'", "got nan", "Set it with --x0 NUMBER")


def test_deploy_command_missing_parameter() -> None:
    result = invoke("deploy", "hybrid", "--x0", "1", "--y0", "0")
    assert result.exit_code == 2
    assert "Missing option '--gradient'" in result.stderr


def test_predict_semicolon_csv_with_spaces(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scored.csv"
    result = invoke(
        "predict",
        "models:/shared_model/Production",
        "--input",
        str(wine_csv),
        "--column",
        "fixed acidity",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote 5 rows with 0 null predictions to {output} (version {deployed.version})" in result.stdout

    scored = pd.read_csv(output, sep=";", float_precision="round_trip")
    assert list(scored.columns) == ["fixed acidity", "alcohol", "colour", "prediction"]
    expected = HYBRID(scored["fixed acidity"].to_numpy(), **HYBRID_PARAMETERS)
    assert scored["prediction"].tolist() == expected.tolist()


def test_predict_parquet_keeps_nulls(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "scored.parquet"
    result = invoke(
        "predict",
        "models:/shared_model@champion",
        "--input",
        str(wine_csv),
        "--column",
        "alcohol",
        "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    assert "1 null predictions" in result.stdout
    assert pd.read_parquet(output)["prediction"].isna().sum() == 1


def test_predict_draws_no_progress_bar_off_terminal(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    # CliRunner's stderr is not a terminal, like a pipe, a log file or CI.
    output = tmp_path / "scored.csv"
    result = invoke(
        "predict", "models:/shared_model/Production", "--input", str(wine_csv), "--column", "alcohol", "--output",
        str(output),
    )
    assert result.exit_code == 0, result.output
    assert "Scoring" not in result.stderr
    assert "\r" not in result.stderr
    assert "Wrote 5 rows" in result.stdout


@pytest.mark.parametrize(
    ("column", "fragments"),
    [
        ("sugar", ["column 'sugar' not found", "'fixed acidity', 'alcohol', 'colour'"]),
        ("colour", ["column 'colour'", "is not numeric", "'red'"]),
    ],
)
def test_predict_bad_column(
    deployed: Deployment, wine_csv: Path, tmp_path: Path, column: str, fragments: list[str]
) -> None:
    output = tmp_path / "out.csv"
    result = invoke(
        "predict",
        "models:/shared_model/Production",
        "--input",
        str(wine_csv),
        "--column",
        column,
        "--output",
        str(output),
    )
    assert_one_line_error(result, *fragments)
    assert list(tmp_path.iterdir()) == [wine_csv]


def test_predict_missing_stage_lists_versions(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = invoke(
        "predict",
        "models:/shared_model/Staging",
        "--input",
        str(wine_csv),
        "--column",
        "alcohol",
        "--output",
        str(output),
    )
    assert_one_line_error(result, "has no stage 'Staging'", "(Production, @champion)", "mlfunc promote shared_model")
    assert not output.exists()


def test_predict_missing_model_name(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    result = invoke(
        "predict", "models:/nobody/Production", "--input", str(wine_csv), "--column", "alcohol", "--output", str(output)
    )
    assert_one_line_error(result, "registered model 'nobody' not found", "shared_model")
    assert not output.exists()


@pytest.mark.parametrize("content", ["", "x,y\n"], ids=["empty", "header-only"])
def test_predict_empty_input(tmp_path: Path, content: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    output = tmp_path / "out.csv"
    result = invoke(
        "predict", "models:/shared_model/Production", "--input", str(source), "--column", "x", "--output", str(output)
    )
    assert_one_line_error(result, "in.csv")
    assert not output.exists()


def test_predict_unreadable_input(tmp_path: Path) -> None:
    result = invoke(
        "predict",
        "models:/shared_model/Production",
        "--input",
        str(tmp_path / "absent.csv"),
        "--column",
        "x",
        "--output",
        str(tmp_path / "out.csv"),
    )
    assert_one_line_error(result, "absent.csv' not found")


def test_promote_requires_stage_or_alias() -> None:
    result = invoke("promote", "shared_model", "1")
    assert result.exit_code == 2
    assert "pass --stage, --alias or both" in result.stderr


def test_plot_writes_png(tmp_path: Path) -> None:
    output = tmp_path / "hybrid.png"
    result = invoke("plot", "--output", str(output))
    assert result.exit_code == 0, result.output
    assert output.read_bytes().startswith(b"\x89PNG")


@pytest.mark.slow
def test_cli_process_error_exit_code(deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlfunc",
            "predict",
            "models:/shared_model/Production",
            "--input",
            str(wine_csv),
            "--column",
            "sugar",
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr.startswith("Error: column 'sugar' not found")
    assert "Traceback" not in completed.stderr
    assert not output.exists()


@pytest.mark.slow
def test_sql_command_prints_result(spark, deployed: Deployment, wine_csv: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        "sql",
        "SELECT `fixed acidity`, f(`fixed acidity`) AS prediction FROM wine",
        "--model",
        "f=models:/shared_model@champion",
        "--table",
        f"wine={wine_csv}",
        "--max-rows",
        "3",
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["fixed", "acidity", "prediction"]
    assert len(lines) == 5
    assert lines[-1] == "(5 rows, 3 shown; write them all with --output FILE)"


@pytest.mark.slow
def test_sql_command_bad_query(spark, deployed: Deployment, wine_csv: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    output = tmp_path / "out.csv"
    result = invoke("sql", "SELECT nope FROM wine", "--table", f"wine={wine_csv}", "--output", str(output))
    assert_one_line_error(result, "SQL query failed", "nope")
    assert not output.exists()


def test_sql_command_bad_assignment() -> None:
    result = invoke("sql", "SELECT 1", "--model", "no-equals-sign")
    assert result.exit_code == 2
    assert "expected NAME=VALUE" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("command", [["--help"], ["promote", "--help"], ["predict", "--help"]], ids=" ".join)
def test_help_imports_no_heavy_modules(command: list[str]) -> None:
    # Help must print at once, so it may load neither MLflow, Spark, pandas nor even numpy.
    script = (
        "import sys\n"
        "from mlfunc.cli import main\n"
        f"try:\n    main({command!r})\nexcept SystemExit:\n    pass\n"
        "heavy = ('numpy', 'pandas', 'pyarrow', 'mlflow', 'pyspark', 'sklearn', 'matplotlib')\n"
        "print('heavy:' + ','.join(sorted(name for name in heavy if name in sys.modules)))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "heavy:"
