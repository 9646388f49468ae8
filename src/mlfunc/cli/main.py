"""The ``mlfunc`` command: parse arguments, call one public function, print the result.

MLflow, Spark and even numpy are imported inside the commands that need
them, so that ``mlfunc --help`` answers at once.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING

import click

from mlfunc import __version__
from mlfunc.cli.output import MlfuncGroup, configure_logging

if TYPE_CHECKING:
    from mlfunc.core import BusinessFunction

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


class _DeployGroup(click.Group):
    """The ``deploy`` group, with one subcommand per business function, built on first use.

    Building them imports the core and so numpy, which ``mlfunc --help`` does not need.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        from mlfunc.core import FUNCTIONS

        return sorted(FUNCTIONS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from mlfunc.core import FUNCTIONS

        function = FUNCTIONS.get(cmd_name)
        return _deploy_command(function) if function is not None else None


@main.group(cls=_DeployGroup)
def deploy() -> None:
    """Log a business function with its parameters as a new model version.

    \b
    Example:
      mlfunc deploy hybrid --x0 5 --y0 2 --gradient 1 --name custom_model --stage Production --alias champion
    """


def _deploy_command(function: BusinessFunction) -> click.Command:
    # One subcommand per business function, its options generated from the
    # function's parameter declarations.
    def run(name: str, stage: str | None, alias: str | None, experiment: str, **parameters: float) -> None:
        from mlfunc.mlflow_adapter.deploy import deploy as deploy_function

        deployment = deploy_function(
            function, parameters, name=name, stage=stage and stage.capitalize(), alias=alias, experiment=experiment
        )
        click.echo(f"Deployed {deployment.registry_uri} (run {deployment.run_id}) to {deployment.tracking_uri}")

    example = " ".join(f"--{parameter.name.replace('_', '-')} 1" for parameter in function.parameters)
    command = click.Command(
        function.name,
        callback=run,
        help=f"Deploy the {function.name} function: {function.description}.\n\n"
        f"\b\nExample:\n  mlfunc deploy {function.name} {example} --name custom_model --stage Production",
        params=[
            *(
                click.Option(
                    [f"--{parameter.name.replace('_', '-')}", parameter.name],
                    type=float,
                    required=True,
                    help=parameter.description + (f" ({parameter.unit})" if parameter.unit else ""),
                )
                for parameter in function.parameters
            ),
            click.Option(["--name"], default="custom_model", show_default=True, help="Registered model name."),
            click.Option(["--stage"], type=STAGE_CHOICES, help="Move the new version to this stage."),
            click.Option(["--alias"], help="Point this alias (for example champion) at the new version."),
            click.Option(["--experiment"], default="mlfunc", show_default=True, help="MLflow experiment of the run."),
        ],
    )
    return command


@main.command()
@click.argument("name")
@click.argument("version")
@click.option("--stage", type=STAGE_CHOICES, help="Move the version to this stage, archiving the previous holder.")
@click.option("--alias", help="Point this alias at the version.")
def promote(name: str, version: str, stage: str | None, alias: str | None) -> None:
    """Move VERSION of registered model NAME to a stage and/or an alias.

    \b
    Example:
      mlfunc promote custom_model 3 --stage Production --alias champion
    """
    if stage is None and alias is None:
        raise click.UsageError("nothing to do: pass --stage, --alias or both")

    from mlfunc.mlflow_adapter.registry import promote as promote_version
    from mlfunc.mlflow_adapter.store import use_store

    use_store()
    promote_version(name, version, stage=stage and stage.capitalize(), alias=alias)


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
