"""The notebook runner itself: parsing, widgets, restarts, exits, the %pip check and %sql cells."""

from __future__ import annotations

import traceback
from pathlib import Path

import pandas as pd
import pytest

import mlfunc
from tests.notebooks.runner import (
    NotebookCellError,
    NotebookError,
    WidgetError,
    check_pip_install,
    parse_notebook,
    run_notebook,
    split_sql_statements,
)

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
VERSION = mlfunc.__version__


def write_notebook(folder: Path, *cells: str, name: str = "notebook.py") -> Path:
    path = folder / name
    path.write_text("# Databricks notebook source\n" + "\n\n# COMMAND ----------\n\n".join(cells) + "\n")
    return path


def run(path: Path, widgets: dict[str, str] | None = None, spark: object = None) -> object:
    return run_notebook(path, spark=spark, widgets=widgets, version=VERSION, echo=lambda text: None)


def test_parse_notebook_cells(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        "# MAGIC %md\n# MAGIC # Title\n# MAGIC\n# MAGIC text",
        "x = 1\ny = x + 1",
        "# DBTITLE 1,Query\n# MAGIC %sql\n# MAGIC SELECT 1",
        "# MAGIC %pip install --quiet ..",
        "",
    )
    cells = parse_notebook(path)

    assert [cell.kind for cell in cells] == ["md", "python", "sql", "pip"]
    assert [cell.number for cell in cells] == [1, 2, 3, 4]
    assert cells[0].source == "# Title\n\ntext"
    assert cells[1].line == 9
    assert cells[1].source == "x = 1\ny = x + 1"
    assert cells[2].source == "SELECT 1"
    assert cells[2].line == 15
    assert cells[3].source == "install --quiet .."


def test_parse_notebook_without_header(tmp_path: Path) -> None:
    path = tmp_path / "plain.py"
    path.write_text("print('hello')\n")
    with pytest.raises(NotebookError, match="not a Databricks notebook source file"):
        parse_notebook(path)


def test_parse_notebook_unsupported_magic(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "# MAGIC %sh ls")
    with pytest.raises(NotebookError, match=r"line 2: unsupported magic command '%sh'"):
        parse_notebook(path)


def test_parse_notebook_half_magic_cell(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "# MAGIC %sql\nSELECT 1")
    with pytest.raises(NotebookError, match=r"line 3: a magic cell must prefix every line"):
        parse_notebook(path)


def test_shipped_notebooks_parse() -> None:
    for name in ("deploy.py", "run.py"):
        kinds = {cell.kind for cell in parse_notebook(NOTEBOOKS / name)}
        assert {"md", "pip", "python"} <= kinds, name
    assert "sql" in {cell.kind for cell in parse_notebook(NOTEBOOKS / "run.py")}


def test_failing_cell_names_cell_and_line(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "a = 1", "b = a + 1\nraise ValueError('broken')")
    with pytest.raises(NotebookCellError, match=r"cell 2 \(python, line 6\) failed: ValueError: broken") as caught:
        run(path)

    cause = caught.value.__cause__
    assert isinstance(cause, ValueError)
    last_frame = traceback.extract_tb(cause.__traceback__)[-1]
    assert last_frame.filename == str(path)
    assert last_frame.lineno == 7


def test_widgets_defaults_and_job_parameters(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        'dbutils.widgets.text("name", "custom_model")\n'
        'dbutils.widgets.dropdown("registry", "workspace", ["workspace", "unity-catalog"])\n'
        'values = (dbutils.widgets.get("name"), dbutils.widgets.get("registry"))',
    )
    assert run(path).namespace["values"] == ("custom_model", "workspace")
    assert run(path, {"registry": "unity-catalog"}).namespace["values"] == ("custom_model", "unity-catalog")


def test_widget_value_outside_choices(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, 'dbutils.widgets.dropdown("registry", "workspace", ["workspace"])')
    with pytest.raises(NotebookCellError, match=r"widget 'registry': value 'hive' is not one of") as caught:
        run(path, {"registry": "hive"})
    assert isinstance(caught.value.__cause__, WidgetError)


def test_widget_read_before_definition(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, 'dbutils.widgets.get("model")')
    with pytest.raises(NotebookCellError, match=r"widget 'model' is not defined"):
        run(path)


def test_job_parameter_without_widget(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, 'dbutils.widgets.text("model", "custom_model")')
    with pytest.raises(NotebookError, match="no widget of the notebook takes the job parameters modle"):
        run(path, {"modle": "typo"})


def test_restart_python_clears_names(tmp_path: Path) -> None:
    path = write_notebook(
        tmp_path,
        'dbutils.widgets.text("kept", "yes")\nbefore = 1',
        "dbutils.library.restartPython()\nnot_run = 1",
        'after = dbutils.widgets.get("kept")',
    )
    namespace = run(path).namespace  # type: ignore[attr-defined]
    assert namespace["after"] == "yes"
    assert "before" not in namespace
    assert "not_run" not in namespace


def test_restart_python_stale_name_fails(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "model = object()", "dbutils.library.restartPython()", "print(model)")
    with pytest.raises(NotebookCellError, match=r"cell 3 .*NameError: name 'model' is not defined"):
        run(path)


def test_notebook_exit_stops_run(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "dbutils.notebook.exit('models:/m/1')", "raise RuntimeError('not reached')")
    result = run(path)
    assert result.exit_value == "models:/m/1"  # type: ignore[attr-defined]
    assert result.cells_run == 1  # type: ignore[attr-defined]


def test_display_records_pandas(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "import pandas as pd\ndisplay(pd.DataFrame({'x': [1.0, 2.0]}))")
    displayed = run(path).displayed  # type: ignore[attr-defined]
    assert len(displayed) == 1
    assert displayed[0]["x"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("SELECT 1", ["SELECT 1"]),
        ("SELECT 1;\nSELECT 2;", ["SELECT 1", "SELECT 2"]),
        ("SELECT ';' AS s; SELECT `a;b` FROM t", ["SELECT ';' AS s", "SELECT `a;b` FROM t"]),
        ("-- a comment; with a semicolon\nSELECT 1", ["SELECT 1"]),
        ("SELECT 'it''s'; -- trailing\n", ["SELECT 'it''s'"]),
        ("  ;\n", []),
    ],
)
def test_split_sql_statements(text: str, expected: list[str]) -> None:
    assert split_sql_statements(text) == expected


def write_project(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(f'[project]\nname = "{name}"\nversion = "{VERSION}"\n')
    return folder


@pytest.mark.parametrize(
    "command",
    [
        "install ..",
        "install --quiet ../",
        f"install /Volumes/main/default/wheels/mlfunc-{VERSION}-py3-none-any.whl",
        "install 'mlfunc @ git+https://example.com/mlfunc.git'",
        "install -q mlfunc==0.1.0",
    ],
)
def test_pip_install_targets_accepted(tmp_path: Path, command: str) -> None:
    write_project(tmp_path / "repo", "mlfunc")
    notebook_dir = tmp_path / "repo" / "notebooks"
    notebook_dir.mkdir()
    assert check_pip_install(command, notebook_dir, VERSION)


@pytest.mark.parametrize(
    ("command", "message"),
    [
        ("list", "expected '%pip install TARGET'"),
        ("install --quiet", "names no install target"),
        ("install requests", "installs 'requests', expected 'mlfunc'"),
        ("install ../missing", "has no pyproject.toml"),
        ("install ../other", "installs project 'other'"),
        ("install /Volumes/w/mlfunc-0.0.1-py3-none-any.whl", "is mlfunc 0.0.1, expected mlfunc"),
        ("install /Volumes/w/mlfunc.whl", "invalid wheel file name"),
        ("install -r requirements.txt", "unsupported pip option '-r'"),
        ("install --index-url http://127.0.0.1:1/simple mlfunc", "unsupported pip option '--index-url'"),
    ],
)
def test_pip_install_targets_rejected(tmp_path: Path, command: str, message: str) -> None:
    write_project(tmp_path / "other", "other")
    notebook_dir = tmp_path / "notebooks"
    notebook_dir.mkdir()
    with pytest.raises(NotebookError, match=message):
        check_pip_install(command, notebook_dir, VERSION)


def test_pip_cell_wrong_target_fails(tmp_path: Path) -> None:
    path = write_notebook(tmp_path, "# MAGIC %pip install requests", "reached = True")
    with pytest.raises(NotebookCellError, match=r"cell 1 \(pip, line 2\) failed: .*installs 'requests'"):
        run(path)


def test_shipped_notebooks_install_mlfunc() -> None:
    for name in ("deploy.py", "run.py"):
        pip_cells = [cell for cell in parse_notebook(NOTEBOOKS / name) if cell.kind == "pip"]
        assert len(pip_cells) == 1, name
        assert check_pip_install(pip_cells[0].source, NOTEBOOKS, VERSION) == [".."]


@pytest.mark.slow
def test_sql_cell_displays_last_statement(tmp_path: Path, spark) -> None:  # type: ignore[no-untyped-def]
    path = write_notebook(
        tmp_path,
        "# MAGIC %sql\n"
        "# MAGIC CREATE OR REPLACE TEMPORARY VIEW runner_numbers AS SELECT id AS n FROM range(3);\n"
        "# MAGIC -- the result of the last statement is displayed\n"
        "# MAGIC SELECT n * 2 AS doubled FROM runner_numbers ORDER BY n",
    )
    result = run(path, spark=spark)
    frames = result.sql_results  # type: ignore[attr-defined]
    assert len(frames) == 1
    assert isinstance(frames[0], pd.DataFrame)
    assert frames[0]["doubled"].tolist() == [0, 2, 4]


@pytest.mark.slow
def test_sql_cell_error_names_cell(tmp_path: Path, spark) -> None:  # type: ignore[no-untyped-def]
    path = write_notebook(tmp_path, "# MAGIC %sql\n# MAGIC SELECT no_such_column FROM range(1)")
    with pytest.raises(NotebookCellError, match=r"cell 1 \(sql, line 2\) failed: .*no_such_column"):
        run(path, spark=spark)
