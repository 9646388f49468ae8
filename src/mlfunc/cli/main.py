"""The ``mlfunc`` command: parse arguments, call one public function, print the result.

MLflow and Spark are imported inside the commands that need them, so that
``mlfunc --help`` answers at once.
"""

from __future__ import annotations

import logging

import click

from mlfunc import __version__
from mlfunc.cli.output import MlfuncGroup, configure_logging

STAGE_CHOICES = click.Choice(["Staging", "Production", "Archived", "None"], case_sensitive=False)


def _split_assignment(value: str, option: str) -> tuple[str, str]:
    name, separator, target = value.partition("=")
    if not separator or not name or not target:
        raise click.BadParameter(f"expected NAME=VALUE, got {value!r}", param_hint=option)
    return name, target


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
    configure_logging(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)


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
def predict(
    model_uri: str, input_path: str, column: str, output_path: str, sep: str | None, output_column: str
) -> None:
    """Apply the model at MODEL_URI to one column of a file.

    \b
    Example:
      mlfunc predict models:/custom_model/Production --input wine.csv --column alcohol --output scored.csv
    """
    from mlfunc.batch import predict_file

    result = predict_file(model_uri, input_path, column, output_path, sep=sep, output_column=output_column)
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
@click.option("--sep", help="CSV delimiter of the table files. Default: detected from each file.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False), help="Write the result to this file.")
@click.option("--max-rows", default=20, show_default=True, type=click.IntRange(min=1), help="Rows to print.")
def sql(
    query: str,
    models: tuple[str, ...],
    tables: tuple[str, ...],
    sep: str | None,
    output_path: str | None,
    max_rows: int,
) -> None:
    """Run a Spark SQL QUERY with models as functions and files as tables.

    \b
    Example:
      mlfunc sql "SELECT alcohol, f(alcohol) AS y FROM wine" \\
        --model f=models:/custom_model@champion --table wine=wine.csv
    """
    model_pairs = [_split_assignment(value, "--model") for value in models]
    table_pairs = [_split_assignment(value, "--table") for value in tables]

    from mlfunc.spark_adapter.query import run_sql

    result = run_sql(query, models=dict(model_pairs), tables=dict(table_pairs), sep=sep, output=output_path)
    if output_path:
        click.echo(f"Wrote {result.rows} rows to {output_path}")
        return
    click.echo(result.frame.head(max_rows).to_string(index=False))
    if result.rows > max_rows:
        click.echo(f"({result.rows} rows, {max_rows} shown; write them all with --output FILE)")


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


# Registry and function commands live in their own modules and attach themselves to `main`.
from mlfunc.cli import functions as _function_commands  # noqa: E402, F401
from mlfunc.cli import registry as _registry_commands  # noqa: E402, F401
