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
        "predict",
        "models:/shared_model/Production",
        "--input",
        str(wine_csv),
        "--column",
        "alcohol",
        "--output",
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


def test_versions_command_table(deployed: Deployment) -> None:
    result = invoke("versions", "shared_model")
    assert result.exit_code == 0, result.output
    row = next(line for line in result.stdout.splitlines() if "Production" in line)
    assert "@champion" in row
    assert '{"gradient": 1.0, "x0": 5.0, "y0": 2.0}' in row
    assert "hybrid(x0=5, y0=2, gradient=1)" in row


def test_versions_command_unknown_name(deployed: Deployment) -> None:
    result = invoke("versions", "nobody")
    assert_one_line_error(result, "registered model 'nobody' not found", "shared_model")


def test_deploy_command_reuse_and_dry_run(deployed: Deployment) -> None:
    common = ["deploy", "hybrid", "--x0", "5", "--y0", "2", "--gradient", "1", "--name", "shared_model"]
    reused = invoke(*common)
    assert reused.exit_code == 0, reused.output
    assert f"Version {deployed.version} of 'shared_model' already holds this code" in reused.stdout

    dry = invoke(*common, "--force", "--dry-run", "--stage", "Production", "--alias", "champion")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines()[0] == "Dry run: nothing was changed. Would:"
    assert f"  - archive version {deployed.version} (now Production)" in dry.stdout
    assert f"  - point alias @champion from version {deployed.version} to the new version" in dry.stdout


def test_deploy_command_failing_golden_file(mlfunc_home: Path, tmp_path: Path) -> None:
    golden = tmp_path / "golden.csv"
    golden.write_text("x,expected,tolerance\n7,4,0\n8,100,0.5\n")
    result = invoke(
        "deploy",
        "hybrid",
        "--x0",
        "5",
        "--y0",
        "2",
        "--gradient",
        "1",
        "--name",
        "golden_cli",
        "--golden",
        str(golden),
        "--stage",
        "Production",
    )
    assert_one_line_error(result, "1 of 5 golden cases failed", "x=8.0: expected 100.0 (tolerance 0.5), got 5.0")
    assert_one_line_error(invoke("versions", "golden_cli"), "registered model 'golden_cli' not found")


def test_deploy_command_bad_golden_file(tmp_path: Path) -> None:
    golden = tmp_path / "golden.csv"
    golden.write_text("input,output\n1,2\n")
    result = invoke("deploy", "hybrid", "--x0", "5", "--y0", "2", "--gradient", "1", "--golden", str(golden))
    assert_one_line_error(result, "golden-case file", "lacks column 'x'", "found 'input', 'output'")


def test_registry_commands_round_trip(deployed: Deployment) -> None:
    import mlflow

    client = mlflow.MlflowClient()
    client.create_registered_model("cli_flow")
    for _ in range(2):
        client.create_model_version("cli_flow", source=str(deployed.model_uri), run_id=deployed.run_id)

    assert invoke("promote", "cli_flow", "1", "--stage", "Production", "--alias", "champion").exit_code == 0
    dry = invoke("promote", "cli_flow", "2", "--stage", "Production", "--dry-run")
    assert "  - move version 2 of 'cli_flow' from None to Production" in dry.stdout
    assert "  - archive version 1 (now Production)" in dry.stdout
    assert invoke("promote", "cli_flow", "2", "--stage", "Production", "--alias", "champion").exit_code == 0

    history = invoke("history", "cli_flow", "--at", "2999-01-01T00:00:00Z")
    assert history.exit_code == 0, history.output
    assert history.stdout.count("promote") == 2
    assert "At 2999-01-01T00:00:00+00:00, version 2 of 'cli_flow' was in Production." in history.stdout

    rolled = invoke("rollback", "cli_flow")
    assert rolled.exit_code == 0, rolled.output
    assert "Move version 1 of 'cli_flow' from Archived to Production" in rolled.stdout
    assert "Point alias @champion from version 2 to version 1" in rolled.stdout
    assert "rollback" in invoke("history", "cli_flow").stdout


def test_rollback_command_without_history(deployed: Deployment) -> None:
    import mlflow

    mlflow.MlflowClient().create_registered_model("cli_lonely")
    result = invoke("rollback", "cli_lonely")
    assert_one_line_error(result, "no earlier Production version of 'cli_lonely'")


def test_history_command_bad_time(deployed: Deployment) -> None:
    result = invoke("history", "shared_model", "--at", "yesterday")
    assert result.exit_code == 2
    assert "expected an ISO 8601 time" in result.stderr


def test_diff_command_missing_version(deployed: Deployment) -> None:
    result = invoke("diff", "shared_model", deployed.version or "1", "77")
    assert_one_line_error(result, "version '77' of registered model 'shared_model' not found")


@pytest.mark.slow
def test_unreachable_registry_hides_password(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on `port` once the probe socket is closed.
    env = {
        **__import__("os").environ,
        "MLFLOW_TRACKING_URI": f"http://alice:s3cret@127.0.0.1:{port}",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    completed = subprocess.run(
        [sys.executable, "-m", "mlfunc", "versions", "custom_model"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 1
    assert f"http://alice:***@127.0.0.1:{port} cannot be reached" in completed.stderr
    assert "s3cret" not in completed.stderr + completed.stdout
    assert "Traceback" not in completed.stderr


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


def test_predict_refuses_to_overwrite_input(deployed: Deployment, wine_csv: Path) -> None:
    before = wine_csv.read_bytes()
    result = invoke(
        "predict",
        "models:/shared_model/Production",
        "--input",
        str(wine_csv),
        "--column",
        "alcohol",
        "--output",
        str(wine_csv),
    )
    assert_one_line_error(result, "is the input file", "write the result to another file")
    assert wine_csv.read_bytes() == before


def test_sql_refuses_to_overwrite_table_file(wine_csv: Path) -> None:
    before = wine_csv.read_bytes()
    result = invoke("sql", "SELECT * FROM wine", "--table", f"wine={wine_csv}", "--output", str(wine_csv))
    assert_one_line_error(result, "is the input file")
    assert wine_csv.read_bytes() == before


def test_sql_missing_output_folder_fails_early(wine_csv: Path, tmp_path: Path) -> None:
    result = invoke(
        "sql", "SELECT * FROM wine", "--table", f"wine={wine_csv}", "--output", str(tmp_path / "missing" / "out.csv")
    )
    assert_one_line_error(result, "folder", "does not exist")
    assert "Started Spark" not in result.stderr


@pytest.mark.parametrize("alias", ["bad alias", "v3", "latest"])
def test_invalid_alias_changes_nothing(deployed: Deployment, alias: str) -> None:
    before = invoke("versions", "shared_model").stdout
    promoted = invoke("promote", "shared_model", deployed.version or "1", "--stage", "Archived", "--alias", alias)
    assert_one_line_error(promoted, f"invalid alias {alias!r}", "--alias champion")
    dry = invoke(
        "deploy",
        "hybrid",
        "--x0",
        "9",
        "--y0",
        "2",
        "--gradient",
        "1",
        "--name",
        "shared_model",
        "--alias",
        alias,
        "--dry-run",
    )
    assert_one_line_error(dry, f"invalid alias {alias!r}")
    assert invoke("versions", "shared_model").stdout == before


def test_model_name_with_quote_round_trip(deployed: Deployment) -> None:
    import mlflow

    name = "it's a model"
    client = mlflow.MlflowClient()
    client.create_registered_model(name)
    client.create_model_version(name, source=str(deployed.model_uri), run_id=deployed.run_id)
    result = invoke("promote", name, "1", "--stage", "Production")
    assert result.exit_code == 0, result.output
    assert "Production" in invoke("versions", name).stdout


def test_sql_expr_prints_the_compiled_expression(deployed: Deployment) -> None:
    result = invoke("sql-expr", "models:/shared_model@champion")
    assert result.exit_code == 0, result.output
    assert result.stdout == "CASE WHEN `x` < 5.0E0 THEN 2.0E0 ELSE 1.0E0 * `x` + (-3.0E0) END\n"


def test_sql_expr_create_function_names_the_version(deployed: Deployment) -> None:
    result = invoke("sql-expr", "models:/shared_model/Production", "--create-function", "custom_model_udf")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"-- compiled by mlfunc 0.1.0 from version {deployed.version} of 'shared_model'")
    assert lines[1] == "CREATE OR REPLACE FUNCTION `custom_model_udf`(`x` DOUBLE)"


def test_sql_expr_duckdb_database_creates_the_macro(deployed: Deployment, tmp_path: Path) -> None:
    import duckdb

    database = tmp_path / "rules.duckdb"
    args = ["--dialect", "duckdb", "--create-function", "f", "--database", str(database)]
    result = invoke("sql-expr", "models:/shared_model@champion", *args)
    assert result.exit_code == 0, result.output
    assert "CREATE OR REPLACE MACRO" in result.stdout
    with duckdb.connect(str(database)) as connection:
        assert connection.sql("SELECT f(7.5)").fetchall() == [(4.5,)]


def test_sql_expr_database_needs_duckdb_and_a_name() -> None:
    result = invoke("sql-expr", "models:/shared_model@champion", "--database", "rules.duckdb")
    assert result.exit_code == 2
    assert "--database needs --dialect duckdb and --create-function NAME" in result.stderr


def test_sql_expr_model_without_translation(explained_discount: Deployment) -> None:
    result = invoke("sql-expr", "models:/explained_discount@champion")
    assert_one_line_error(result, "adds an explanation column")


def test_sql_command_with_duckdb(deployed: Deployment, wine_csv: Path) -> None:
    query = 'SELECT "fixed acidity" AS x, f("fixed acidity") AS y FROM wine ORDER BY x'
    result = invoke(
        "sql", query, "--engine", "duckdb", "--model", "f=models:/shared_model@champion", "--table", f"wine={wine_csv}"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == ["6.9", "3.9000000000000004"]
    assert "SQL function f runs models:/shared_model@champion as a compiled SQL expression" in result.stderr


def test_sql_output_needs_a_known_suffix(wine_csv: Path, tmp_path: Path) -> None:
    result = invoke("sql", "SELECT 1", "--table", f"wine={wine_csv}", "--output", str(tmp_path / "out.json"))
    assert_one_line_error(result, "expected a name ending in .csv, .parquet, .pq, got '.json'")


def test_sql_rejects_a_table_name_given_twice(wine_csv: Path) -> None:
    result = invoke("sql", "SELECT 1", "--table", f"t={wine_csv}", "--table", "t=other.csv")
    assert result.exit_code == 2
    assert "name 't' given twice" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--temporary"], "--temporary needs --create-function NAME"),
        (
            ["--dialect", "duckdb", "--create-function", "f", "--temporary", "--database", "x.duckdb"],
            "without --temporary",
        ),
    ],
)
def test_sql_expr_flag_conflicts(args: list[str], message: str) -> None:
    result = invoke("sql-expr", "models:/shared_model@champion", *args)
    assert result.exit_code == 2
    assert message in result.stderr


def test_sql_expr_temporary_dotted_name(deployed: Deployment) -> None:
    result = invoke("sql-expr", "models:/shared_model@champion", "--create-function", "default.g", "--temporary")
    assert_one_line_error(result, "invalid temporary function name 'default.g'")


def test_sql_duckdb_output_keeps_nan_apart_from_null(tmp_path: Path) -> None:
    query = "SELECT CAST('NaN' AS DOUBLE) AS a, CAST(NULL AS DOUBLE) AS b, 1.5::DOUBLE AS c"
    csv_output = tmp_path / "out.csv"
    assert invoke("sql", query, "--engine", "duckdb", "--output", str(csv_output)).exit_code == 0
    assert csv_output.read_text().splitlines() == ['"a","b","c"', "nan,,1.5"]

    import pyarrow.parquet as pq

    parquet_output = tmp_path / "out.parquet"
    assert invoke("sql", query, "--engine", "duckdb", "--output", str(parquet_output)).exit_code == 0
    table = pq.read_table(parquet_output)
    assert table.column("a").null_count == 0
    assert table.column("b").null_count == 1

    printed = invoke("sql", query, "--engine", "duckdb")
    assert printed.stdout.splitlines()[1].split() == ["NaN", "<NA>", "1.5"]


def test_sql_duckdb_error_is_one_line(wine_csv: Path) -> None:
    result = invoke("sql", "SELEC 1", "--engine", "duckdb", "--table", f"wine={wine_csv}")
    assert_one_line_error(result, 'Parser Error: syntax error at or near "SELEC"')


@pytest.mark.slow
def test_sql_python_udf_text_error(spark, deployed: Deployment, wine_csv: Path) -> None:  # type: ignore[no-untyped-def]
    query = "SELECT f(colour) FROM wine"
    model = "f=models:/shared_model@champion"
    result = invoke("sql", query, "--python-udf", "--model", model, "--table", f"wine={wine_csv}")
    assert_one_line_error(
        result, "function 'hybrid' takes a double for its input 'x', got a column of Arrow type string"
    )


@pytest.mark.slow
def test_sql_pickled_model_text_error(spark, original_model: str, wine_csv: Path) -> None:  # type: ignore[no-untyped-def]
    model = f"f={original_model}"
    result = invoke("sql", "SELECT f(colour) FROM wine", "--model", model, "--table", f"wine={wine_csv}")
    assert_one_line_error(result, "running the SQL query failed", "column(s) '0' are not numeric")


def test_sql_explained_result_csv_columns(explained_discount: Deployment, tmp_path: Path) -> None:
    orders = tmp_path / "orders.csv"
    orders.write_text("quantity,tier\n150,gold\n")
    output = tmp_path / "out.csv"
    model = "d=models:/explained_discount@champion"
    query = "SELECT d(quantity, tier) AS d FROM orders"
    result = invoke(
        "sql", query, "--engine", "duckdb", "--model", model, "--table", f"orders={orders}", "--output", str(output)
    )
    assert result.exit_code == 0, result.output
    assert output.read_text().splitlines() == ['"d.rate","d.explanation"', '0.2,"rule 0"']


def test_sql_names_differing_in_case_are_one_name() -> None:
    result = invoke("sql", "SELECT 1", "--model", "f=models:/a/1", "--model", "F=models:/b/1")
    assert result.exit_code == 2
    assert "name 'F' given twice (SQL names ignore case)" in result.stderr
