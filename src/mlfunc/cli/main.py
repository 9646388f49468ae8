"""The ``mlfunc`` command: parse arguments, call one public function, print the result.

MLflow, Spark and even numpy are imported inside the commands that need
them, so that ``mlfunc --help`` returns at once.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, cast

import click

from mlfunc import __version__
from mlfunc.cli.output import MlfuncGroup, configure_logging

if TYPE_CHECKING:
    from mlfunc.core.sql import Dialect

STAGE_CHOICES = click.Choice(["Staging", "Production", "Archived", "None"], case_sensitive=False)


def _split_assignment(value: str, option: str) -> tuple[str, str]:
    name, separator, target = value.partition("=")
    if not separator or not name or not target:
        raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
    return name, target


def _assignments(values: tuple[str, ...], option: str) -> dict[str, str]:
    """Parse NAME=VALUE options into a dict, rejecting a NAME given twice."""
    pairs: dict[str, str] = {}
    # SQL names ignore case, so F and f would name the same function.
    seen: dict[str, str] = {}
    for value in values:
        name, target = _split_assignment(value, option)
        if name.lower() in seen:
            earlier = seen[name.lower()]
            raise click.BadParameter(
                f"name {name!r} given twice (SQL names ignore case): {pairs[earlier]!r} and {target!r}",
                param_hint=option,
            )
        seen[name.lower()] = name
        pairs[name] = target
    return pairs


@click.group(cls=MlfuncGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mlfunc")
@click.option("-v", "--verbose", is_flag=True, help="Show debug messages.")
@click.option("-q", "--quiet", is_flag=True, help="Show only warnings and errors.")
def main(verbose: bool, quiet: bool) -> None:
    """Package business functions as MLflow models and run them from pandas or Spark SQL.

    The registry is $MLFLOW_TRACKING_URI if set, else a SQLite file under
    $MLFUNC_HOME (default ~/.mlfunc).

    \b
    Example:
      mlfunc demo
    """
    level = logging.INFO
    if verbose:
        level = logging.DEBUG
    elif quiet:
        level = logging.WARNING
    configure_logging(level)


@main.command()
@click.argument("model_uri")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False), help="CSV or Parquet file.")
@click.option("--column", required=True, help="Input column the model is applied to.")
@click.option(
    "--output",
    "output_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write: the input plus a prediction column. Parquet if it ends in .parquet.",
)
@click.option("--sep", help="CSV delimiter of the input. Default: detected from the file.")
@click.option("--output-column", default="prediction", show_default=True, help="Name of the added column.")
@click.pass_context
def predict(
    ctx: click.Context,
    model_uri: str,
    input_path: str,
    column: str,
    output_path: str,
    sep: str | None,
    output_column: str,
) -> None:
    """Apply the model at MODEL_URI to one column of a file.

    The file is read, scored and written in batches, so memory stays flat
    for files of any size. On a terminal, a progress bar shows on stderr.

    \b
    Example:
      mlfunc predict models:/custom_model/Production --input wine.csv --column alcohol --output scored.csv
    """
    from mlfunc.batch import predict_file

    quiet = bool(ctx.find_root().params.get("quiet"))
    result = predict_file(
        model_uri,
        input_path,
        column,
        output_path,
        sep=sep,
        output_column=output_column,
        progress=sys.stderr.isatty() and not quiet,
    )
    version = f" (version {result.version})" if result.version else ""
    click.echo(f"Wrote {result.rows} rows with {result.null_predictions} null predictions to {result.output}{version}")


@main.command()
@click.argument("query")
@click.option(
    "--model", "models", multiple=True, metavar="NAME=MODEL_URI", help="Register a model as SQL function NAME."
)
@click.option(
    "--table", "tables", multiple=True, metavar="NAME=FILE", help="Register a CSV or Parquet file as table NAME."
)
@click.option(
    "--engine",
    type=click.Choice(["spark", "duckdb"]),
    default="spark",
    show_default=True,
    help="Run the query with local Spark, or with DuckDB in this process (no JVM).",
)
@click.option("--python-udf", is_flag=True, help="Run every model as a Python function, even one that compiles to SQL.")
@click.option("--sep", help="CSV delimiter of the table files. Default: detected from each file.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="Write the result to this file.")
@click.option("--max-rows", default=20, show_default=True, type=click.IntRange(min=1), help="Rows to print.")
def sql(
    query: str,
    models: tuple[str, ...],
    tables: tuple[str, ...],
    engine: str,
    python_udf: bool,
    sep: str | None,
    output_path: str | None,
    max_rows: int,
) -> None:
    """Run a SQL QUERY with models as functions and files as tables.

    A model whose function compiles to SQL runs as a native SQL expression;
    the others run as Python functions. A line per model on stderr names its path.

    \b
    Example:
      mlfunc sql "SELECT alcohol, f(alcohol) AS y FROM wine" \\
        --model f=models:/custom_model@champion --table wine=wine.csv
      mlfunc sql "SELECT f(alcohol) FROM wine" --engine duckdb \\
        --model f=models:/custom_model@champion --table wine=wine.parquet
    """
    model_pairs = _assignments(models, "--model")
    table_pairs = _assignments(tables, "--table")

    if engine == "duckdb":
        from mlfunc.duckdb_adapter.query import run_duckdb_sql as run_query
    else:
        from mlfunc.spark_adapter.query import run_sql as run_query

    result = run_query(
        query, models=model_pairs, tables=table_pairs, sep=sep, output=output_path, python_udf=python_udf
    )
    if output_path:
        click.echo(f"Wrote {result.rows} rows to {output_path}")
        return
    click.echo(result.preview(max_rows))
    if result.rows > max_rows:
        click.echo(f"({result.rows} rows, {max_rows} shown; write them all with --output FILE)")


@main.command("sql-expr")
@click.argument("model_uri")
@click.option(
    "--dialect",
    type=click.Choice(["spark", "duckdb"]),
    default="spark",
    show_default=True,
    help="SQL dialect to write: Spark SQL (also Databricks) or DuckDB.",
)
@click.option(
    "--create-function",
    "function_name",
    metavar="NAME",
    help="Print a CREATE FUNCTION (Spark) or CREATE MACRO (DuckDB) statement for function NAME instead.",
)
@click.option("--temporary", is_flag=True, help="With --create-function: a temporary function of one session.")
@click.option(
    "--database",
    type=click.Path(dir_okay=False),
    help="With --dialect duckdb and --create-function: also create the macro in this DuckDB database file.",
)
def sql_expr(model_uri: str, dialect: str, function_name: str | None, temporary: bool, database: str | None) -> None:
    """Print MODEL_URI's function as a SQL expression over its input columns.

    The expression gives the same result as the model, bit for bit. Only
    functions with a SQL translation compile: hybrid, piecewise and decision
    tables. A CREATE statement records the version it was compiled from.

    \b
    Example:
      mlfunc sql-expr models:/custom_model@champion
      mlfunc sql-expr models:/custom_model@champion --create-function custom_model_udf
      mlfunc sql-expr models:/custom_model@champion --dialect duckdb \\
        --create-function custom_model_udf --database rules.duckdb
    """
    if database is not None and (dialect != "duckdb" or function_name is None or temporary):
        raise click.UsageError(
            "--database needs --dialect duckdb and --create-function NAME, without --temporary "
            "(a temporary macro ends with the connection)"
        )
    if temporary and function_name is None:
        raise click.UsageError("--temporary needs --create-function NAME")

    from mlfunc.mlflow_adapter.definition import compile_model, read_definition

    definition = read_definition(model_uri)
    text = compile_model(definition, cast("Dialect", dialect), function_name=function_name, temporary=temporary)
    if database is not None:
        from mlfunc.duckdb_adapter.query import create_persistent_macro

        create_persistent_macro(database, text)
        logging.getLogger(__name__).info("Created macro %s in %s", function_name, database)
    click.echo(text)


@main.command()
@click.option(
    "--output",
    "output_path",
    default="hybrid.png",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="PNG file to write.",
)
@click.option("--x0", default=5.0, show_default=True, help="Breakpoint.")
@click.option("--y0", default=2.0, show_default=True, help="Constant output below the breakpoint.")
@click.option("--gradient", default=1.0, show_default=True, help="Slope of the linear segment.")
def plot(output_path: str, x0: float, y0: float, gradient: float) -> None:
    """Draw the hybrid function as a PNG, marking its breakpoint.

    \b
    Example:
      mlfunc plot --x0 5 --y0 2 --gradient 1 --output docs/hybrid.png
    """
    from mlfunc.core import HYBRID
    from mlfunc.plotting import plot_function

    path = plot_function(HYBRID, {"x0": x0, "y0": y0, "gradient": gradient}, output_path)
    click.echo(f"Wrote {path}")


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Deploy the hybrid function and run it from pandas and Spark SQL on the UCI wine data.

    \b
    Example:
      mlfunc demo
    """
    from mlfunc.demo import run_demo

    # The demo narrates each step itself, so the INFO lines would repeat it.
    if not ctx.parent or not ctx.parent.params.get("verbose"):
        logging.getLogger("mlfunc").setLevel(logging.WARNING)
    run_demo(click.echo)


@main.command()
@click.argument("model_uri")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to listen on; 0.0.0.0 is every interface."
)
@click.option(
    "--port", default=5001, show_default=True, type=click.IntRange(0, 65535), help="TCP port; 0 picks a free one."
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes, each with its own copy of the model.",
)
@click.option(
    "--max-body-bytes",
    default=16 * 1024 * 1024,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body accepted, in bytes; larger ones get HTTP 413.",
)
@click.option(
    "--require-token",
    is_flag=True,
    help="Reject requests without 'Authorization: Bearer TOKEN', the token being $MLFUNC_SERVING_TOKEN. "
    "/ping and /health stay open.",
)
def serve(model_uri: str, host: str, port: int, workers: int, max_body_bytes: int, require_token: bool) -> None:
    """Serve the model at MODEL_URI over REST with MLflow's scoring server, until Ctrl-C.

    The server runs in the current Python environment and accepts every
    MLflow payload: JSON with dataframe_split, dataframe_records, inputs or
    instances, and CSV. NaN predictions come back as null.

    \b
    Example:
      mlfunc serve models:/custom_model/Production --port 5001
    """
    from mlfunc.serving.server import prepare_server

    with prepare_server(
        model_uri,
        host=host,
        port=port,
        workers=workers,
        max_body_bytes=max_body_bytes,
        require_token=require_token,
        log_level=logging.getLogger("mlfunc").getEffectiveLevel(),
    ) as server:
        click.echo(f"Serving {server.describe()} at {server.url}")
        click.echo(f"Try it:\n  {server.curl_example()}")
        click.echo("Press Ctrl-C to stop.")
        server.run()
    click.echo(f"Stopped serving {server.describe()}")


@main.command()
@click.argument("url")
@click.option("--input", "input_path", required=True, type=click.Path(dir_okay=False), help="CSV or Parquet file.")
@click.option("--column", help="Send only this column, as the model's single input. Default: every column.")
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False),
    help="File to write: the input plus the predictions. Parquet if it ends in .parquet. Default: print JSON.",
)
@click.option("--sep", help="CSV delimiter of the input. Default: detected from the file.")
@click.option("--output-column", default="prediction", show_default=True, help="Name of the added column.")
@click.option(
    "--timeout", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Seconds."
)
def invoke(
    url: str,
    input_path: str,
    column: str | None,
    output_path: str | None,
    sep: str | None,
    output_column: str,
    timeout: float,
) -> None:
    """Score a file on the MLflow scoring server at URL and write or print the predictions.

    Sends 'Authorization: Bearer $MLFUNC_SERVING_TOKEN' when that variable
    is set; the token is never printed.

    \b
    Example:
      mlfunc invoke http://127.0.0.1:5001 --input wine.csv --column alcohol --output scored.csv
    """
    from mlfunc.serving.client import invoke_file

    result = invoke_file(
        url, input_path, column=column, output_path=output_path, sep=sep, output_column=output_column, timeout=timeout
    )
    if result.output is None:
        click.echo(result.predictions_json())
        return
    click.echo(f"Wrote {result.rows} rows with {result.null_predictions} null predictions to {result.output}")


# Registry and function commands live in their own modules and attach themselves to `main`.
from mlfunc.cli import functions as _function_commands  # noqa: E402, F401
from mlfunc.cli import registry as _registry_commands  # noqa: E402, F401
