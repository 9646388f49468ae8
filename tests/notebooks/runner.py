"""Run a Databricks notebook source file cell by cell on local Spark.

A notebook in source format starts with ``# Databricks notebook source`` and
separates cells with ``# COMMAND ----------``. A magic cell has every line
prefixed with ``# MAGIC``. The runner executes the cells in order, in one
namespace that holds what a Databricks notebook finds predefined:

- ``spark``: the Spark session passed in (the tests' shared local session);
- ``display``: prints a table and records it in :attr:`NotebookRun.displayed`;
- ``dbutils.widgets``: widgets backed by a dict, where the values passed to
  :func:`run_notebook` play the part of a job's parameters;
- ``dbutils.library.restartPython()``: ends the cell and clears every name
  the notebook defined, as a restart of the Python process does;
- ``dbutils.notebook.exit(value)``: ends the run and records ``value``.

``%sql`` cells run through ``spark.sql``, and the last statement's result is
displayed. ``%md`` cells are skipped. ``%pip`` cells are not run, because the
tests run in an environment where mlfunc is installed already, but each one
must install mlfunc from a path, a wheel or a requirement that names it.
"""

from __future__ import annotations

import shlex
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

NOTEBOOK_HEADER = "# Databricks notebook source"
CELL_SEPARATOR = "# COMMAND ----------"
MAGIC_PREFIX = "# MAGIC"
TITLE_PREFIX = "# DBTITLE"
PROJECT_NAME = "mlfunc"
# A bound on the rows display() collects, so that a large table cannot
# exhaust the test process's memory.
DISPLAY_MAX_ROWS = 10_000
# pip options that change neither what is installed nor where it comes from.
_HARMLESS_PIP_OPTIONS = frozenset({"-q", "--quiet", "-U", "--upgrade", "--no-deps", "--force-reinstall"})

CellKind = Literal["python", "md", "sql", "pip"]
_MAGIC_KINDS: dict[str, CellKind] = {"%md": "md", "%sql": "sql", "%pip": "pip"}


class NotebookError(Exception):
    """A notebook file is not in Databricks source format, or a cell failed."""


class NotebookCellError(NotebookError):
    """A cell raised an exception or failed a check. The exception is chained as ``__cause__``."""

    def __init__(self, path: Path, cell: Cell, reason: str) -> None:
        super().__init__(f"{path}: cell {cell.number} ({cell.kind}, line {cell.line}) failed: {reason}")
        self.path = path
        self.cell = cell


class WidgetError(NotebookError):
    """A widget is read before it is defined, or given a value its choices do not allow."""


@dataclass(frozen=True)
class Cell:
    """One cell: its 1-based number, the file line of its first line, its kind and its code without magic prefixes."""

    number: int
    line: int
    kind: CellKind
    source: str


@dataclass
class NotebookRun:
    """What a notebook run left behind."""

    path: Path
    namespace: dict[str, Any]
    displayed: list[Any] = field(default_factory=list)
    sql_results: list[pd.DataFrame] = field(default_factory=list)
    exit_value: str | None = None
    cells_run: int = 0


# --- Parsing -----------------------------------------------------------------


def parse_notebook(path: Path) -> list[Cell]:
    """Split a notebook source file into cells, dropping empty ones."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].rstrip() != NOTEBOOK_HEADER:
        raise NotebookError(f"{path}: not a Databricks notebook source file: line 1 must be {NOTEBOOK_HEADER!r}")

    cells: list[Cell] = []
    for first_line, block in _blocks(lines):
        cell = _parse_cell(path, len(cells) + 1, first_line, block)
        if cell is not None:
            cells.append(cell)
    return cells


def _blocks(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    # Yield each cell's lines with the 1-based file line of the first one.
    start, block = 2, []
    for number, line in enumerate(lines[1:], start=2):
        if line.rstrip() == CELL_SEPARATOR:
            yield start, block
            start, block = number + 1, []
        else:
            block.append(line)
    yield start, block


def _parse_cell(path: Path, number: int, first_line: int, block: list[str]) -> Cell | None:
    # Leading blank lines and a cell title do not belong to the code.
    while block and (not block[0].strip() or block[0].startswith(TITLE_PREFIX)):
        block, first_line = block[1:], first_line + 1
    while block and not block[-1].strip():
        block = block[:-1]
    if not block:
        return None

    if not block[0].startswith(MAGIC_PREFIX):
        return Cell(number, first_line, "python", "\n".join(block))

    text = _strip_magic(path, first_line, block)
    command, _, rest = text.partition("\n")
    magic = command.split(maxsplit=1)[0] if command.strip() else ""
    kind = _MAGIC_KINDS.get(magic)
    if kind is None:
        raise NotebookError(
            f"{path}: line {first_line}: unsupported magic command {magic!r}: "
            f"the runner supports {', '.join(_MAGIC_KINDS)}"
        )
    body = command[len(magic) :].strip()
    return Cell(number, first_line, kind, "\n".join(part for part in (body, rest) if part))


def _strip_magic(path: Path, first_line: int, block: list[str]) -> str:
    stripped = []
    for offset, line in enumerate(block):
        if not line.startswith(MAGIC_PREFIX):
            raise NotebookError(
                f"{path}: line {first_line + offset}: a magic cell must prefix every line with {MAGIC_PREFIX!r}"
            )
        content = line[len(MAGIC_PREFIX) :]
        stripped.append(content[1:] if content.startswith(" ") else content)
    return "\n".join(stripped)


def split_sql_statements(text: str) -> list[str]:
    """Split a ``%sql`` cell into statements at semicolons outside quotes and ``--`` comments."""
    statements: list[str] = []
    current: list[str] = []
    quote: str | None = None
    in_comment = False

    for index, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
            current.append(char if char == "\n" else "")
            continue
        if quote is not None:
            current.append(char)
            quote = None if char == quote else quote
            continue
        if char == "-" and text[index : index + 2] == "--":
            in_comment = True
            continue
        if char in "'\"`":
            quote = char
        if char == ";":
            statements.append("".join(current))
            current = []
            continue
        current.append(char)

    statements.append("".join(current))
    return [statement.strip() for statement in statements if statement.strip()]


# --- The %pip check ------------------------------------------------------------


def check_pip_install(command: str, notebook_dir: Path, version: str) -> list[str]:
    """Return the install targets of a ``%pip`` cell, or raise NotebookError if one is not mlfunc.

    A target is a project folder, a wheel file of mlfunc ``version`` or a
    requirement that names mlfunc. A relative folder starts from the
    notebook's folder, as on Databricks Runtime 14.0 and later. Only a wheel's
    file name is checked, because the wheel usually lives in a Unity Catalog
    volume.
    """
    arguments = shlex.split(command)
    if not arguments or arguments[0] != "install":
        raise NotebookError(f"expected '%pip install TARGET', got '%pip {command}'")

    options = [argument for argument in arguments[1:] if argument.startswith("-")]
    unknown = sorted(set(options) - _HARMLESS_PIP_OPTIONS)
    if unknown:
        allowed = ", ".join(sorted(_HARMLESS_PIP_OPTIONS))
        raise NotebookError(f"unsupported pip option {unknown[0]!r}: expected only {allowed}")

    targets = [argument for argument in arguments[1:] if not argument.startswith("-")]
    if not targets:
        raise NotebookError("'%pip install' names no install target")
    for target in targets:
        _check_target(target, notebook_dir, version)
    return targets


def _check_target(target: str, notebook_dir: Path, version: str) -> None:
    if target.endswith(".whl"):
        _check_wheel(target, version)
    elif target.startswith((".", "/", "~")):
        _check_project_folder(target, notebook_dir)
    else:
        _check_requirement(target)


def _check_wheel(target: str, version: str) -> None:
    try:
        name, wheel_version, _, _ = parse_wheel_filename(Path(target).name)
    except InvalidWheelFilename as exc:
        raise NotebookError(f"invalid wheel file name in '%pip install {target}': {exc}") from exc
    if name != PROJECT_NAME or str(wheel_version) != version:
        raise NotebookError(f"wheel {target!r} is {name} {wheel_version}, expected {PROJECT_NAME} {version}")


def _check_project_folder(target: str, notebook_dir: Path) -> None:
    folder = (notebook_dir / Path(target).expanduser()).resolve()
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        raise NotebookError(f"'%pip install {target}' points to {folder}, which has no pyproject.toml")
    name = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("name", "")
    if canonicalize_name(name) != PROJECT_NAME:
        raise NotebookError(f"'%pip install {target}' installs project {name!r}, expected {PROJECT_NAME!r}")


def _check_requirement(target: str) -> None:
    try:
        requirement = Requirement(target)
    except InvalidRequirement as exc:
        raise NotebookError(f"invalid requirement in '%pip install {target}': {exc}") from exc
    if canonicalize_name(requirement.name) != PROJECT_NAME:
        raise NotebookError(f"'%pip install {target}' installs {requirement.name!r}, expected {PROJECT_NAME!r}")


# --- Stand-ins for what Databricks predefines ----------------------------------


class _RestartPython(Exception):
    """Raised by dbutils.library.restartPython() to end the cell."""


class _NotebookExit(Exception):
    """Raised by dbutils.notebook.exit(value) to end the run."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class Widgets:
    """``dbutils.widgets`` backed by a dict, with ``job_parameters`` as the values a job would pass.

    Method and argument names are dbutils' own, camelCase included.
    """

    def __init__(self, job_parameters: Mapping[str, str]) -> None:
        self._job_parameters = dict(job_parameters)
        self._values: dict[str, str] = {}

    def text(self, name: str, defaultValue: str, label: str | None = None) -> None:
        self._define(name, defaultValue, None)

    def dropdown(self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None) -> None:
        if defaultValue not in choices:
            raise WidgetError(f"widget {name!r}: default {defaultValue!r} is not one of its choices {list(choices)}")
        self._define(name, defaultValue, choices)

    def combobox(self, name: str, defaultValue: str, choices: Sequence[str], label: str | None = None) -> None:
        self._define(name, defaultValue, None)

    def get(self, name: str) -> str:
        if name in self._values:
            return self._values[name]
        # Databricks lets a notebook read a job parameter it defines no widget for.
        if name in self._job_parameters:
            return self._job_parameters[name]
        raise WidgetError(f"widget {name!r} is not defined: define it with dbutils.widgets.text({name!r}, ...) first")

    def getAll(self) -> dict[str, str]:
        return {**self._job_parameters, **self._values}

    def remove(self, name: str) -> None:
        self._values.pop(name, None)

    def removeAll(self) -> None:
        self._values.clear()

    def unused_job_parameters(self) -> list[str]:
        """Return the names of job parameters that no widget of the notebook took."""
        return sorted(set(self._job_parameters) - set(self._values))

    def _define(self, name: str, default: str, choices: Sequence[str] | None) -> None:
        value = self._job_parameters.get(name, default)
        if choices is not None and value not in choices:
            raise WidgetError(f"widget {name!r}: value {value!r} is not one of its choices {list(choices)}")
        self._values[name] = value


class _Library:
    def restartPython(self) -> None:
        raise _RestartPython()


class _Notebook:
    def exit(self, value: object) -> None:
        raise _NotebookExit(str(value))


class DBUtils:
    """The part of ``dbutils`` the runner provides: widgets, library.restartPython and notebook.exit."""

    def __init__(self, widgets: Mapping[str, str]) -> None:
        self.widgets = Widgets(widgets)
        self.library = _Library()
        self.notebook = _Notebook()


class Display:
    """``display``: print a Spark or pandas DataFrame as a table and record it."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.shown: list[Any] = []
        self._echo = echo

    def __call__(self, value: Any, *args: Any, **kwargs: Any) -> None:
        if hasattr(value, "toPandas") and hasattr(value, "limit"):
            value = value.limit(DISPLAY_MAX_ROWS).toPandas()
        self.shown.append(value)
        text = value.to_string(index=False) if isinstance(value, pd.DataFrame) else str(value)
        self._echo(text)


# --- Running ---------------------------------------------------------------------


def run_notebook(
    path: Path,
    *,
    spark: Any,
    widgets: Mapping[str, str] | None = None,
    version: str,
    echo: Callable[[str], None] = print,
) -> NotebookRun:
    """Run every cell of the notebook at ``path``, stopping at ``dbutils.notebook.exit``.

    ``widgets`` are the values a job would pass. ``version`` is the mlfunc
    version a ``%pip`` wheel must have. Raises NotebookCellError, naming the
    cell and its line, when a cell fails, and NotebookError when no widget of
    the notebook takes one of ``widgets``, which is almost always a typo.
    """
    cells = parse_notebook(path)
    runner = _Runner(path, spark, DBUtils(widgets or {}), Display(echo), version)

    for cell in cells:
        try:
            runner.run_cell(cell)
        except _RestartPython:
            runner.reset_namespace()
        except _NotebookExit as exit_:
            runner.result.exit_value = exit_.value
            runner.result.cells_run += 1
            break
        except NotebookCellError:
            raise
        except Exception as exc:
            raise NotebookCellError(path, cell, f"{type(exc).__name__}: {exc}") from exc
        runner.result.cells_run += 1

    unused = runner.dbutils.widgets.unused_job_parameters()
    if unused:
        raise NotebookError(f"{path}: no widget of the notebook takes the job parameters {', '.join(unused)}")
    return runner.result


class _Runner:
    def __init__(self, path: Path, spark: Any, dbutils: DBUtils, display: Display, version: str) -> None:
        self.path = path
        self.spark = spark
        self.dbutils = dbutils
        self.display = display
        self.version = version
        self.result = NotebookRun(path=path, namespace={}, displayed=display.shown)
        self.reset_namespace()

    def reset_namespace(self) -> None:
        namespace = self.result.namespace
        namespace.clear()
        namespace.update(__name__="__main__", spark=self.spark, display=self.display, dbutils=self.dbutils)

    def run_cell(self, cell: Cell) -> None:
        if cell.kind == "md":
            return
        if cell.kind == "pip":
            self._check_pip(cell)
        elif cell.kind == "sql":
            self._run_sql(cell)
        else:
            # Blank lines before the code make tracebacks show the notebook file's own line numbers.
            code = compile("\n" * (cell.line - 1) + cell.source, str(self.path), "exec")
            exec(code, self.result.namespace)

    def _check_pip(self, cell: Cell) -> None:
        try:
            check_pip_install(cell.source, self.path.parent, self.version)
        except NotebookError as exc:
            raise NotebookCellError(self.path, cell, str(exc)) from exc

    def _run_sql(self, cell: Cell) -> None:
        statements = split_sql_statements(cell.source)
        if not statements:
            raise NotebookCellError(self.path, cell, "the %sql cell has no statement")

        result = None
        for statement in statements:
            result = self.spark.sql(statement)

        self.display(result)
        self.result.sql_results.append(self.display.shown[-1])
