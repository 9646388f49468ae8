"""The commands about business functions: ``mlfunc deploy FUNCTION`` and ``mlfunc functions``.

``mlfunc deploy`` has one subcommand per built-in function, with options
generated from its parameter declarations. Functions from installed plug-ins
and ``module:attribute`` references get the same subcommand on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from mlfunc.cli.main import STAGE_CHOICES, main
from mlfunc.errors import MlfuncError

if TYPE_CHECKING:
    from mlfunc.core import BusinessFunction
    from mlfunc.core.parameters import Parameter

_OPTION_TYPES: dict[str, Any] = {"number": float, "integer": int}


class DeployGroup(click.Group):
    """A group whose subcommands are built on first use from the function catalogue.

    Built-in functions are listed; plug-ins and ``module:attribute`` references
    are looked up by name. Building lazily keeps numpy and pandas out of
    ``mlfunc --help``.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        from mlfunc.core import FUNCTIONS

        return sorted(FUNCTIONS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from mlfunc.core import get_function

        try:
            function = get_function(cmd_name)
        except MlfuncError as exc:
            raise click.UsageError(str(exc), ctx) from exc
        return deploy_command(function, cmd_name)


@main.group(cls=DeployGroup)
def deploy() -> None:
    """Log a business function with its parameters as a new model version.

    FUNCTION is a built-in function (see `mlfunc functions`), a function
    from an installed plug-in, or module:attribute for a function in a local
    module. Parameters come from options, a --params file and --set
    overrides, in that order of precedence.

    \b
    Example:
      mlfunc deploy hybrid --x0 5 --y0 2 --gradient 1 --name custom_model --stage Production --alias champion
      mlfunc deploy piecewise --params examples/piecewise/tax_brackets.toml --name income_tax
      mlfunc deploy pricing:shipping --params shipping.toml --name shipping
    """


def _option(parameter: Parameter) -> click.Option:
    flag = f"--{parameter.name.replace('_', '-')}"
    unit = f" ({parameter.unit})" if parameter.unit else ""
    default = "" if parameter.required else f" Default: {parameter.default!r}."
    help_text = f"{parameter.description}{unit}.{default}"
    if parameter.type == "boolean":
        return click.Option([f"{flag}/--no-{flag[2:]}", parameter.name], default=None, help=help_text)
    if parameter.type == "text":
        choice = click.Choice(list(parameter.options)) if parameter.options else click.STRING
        return click.Option([flag, parameter.name], type=choice, help=help_text)
    return click.Option([flag, parameter.name], type=_OPTION_TYPES[parameter.type], help=help_text)


def _example(function: BusinessFunction, invoked_as: str) -> str:
    scalars = [parameter for parameter in function.parameters if parameter.required and not parameter.structured]
    if scalars and len(scalars) == len([p for p in function.parameters if p.required]):
        arguments = " ".join(f"--{parameter.name.replace('_', '-')} 1" for parameter in scalars)
    else:
        arguments = f"--params {function.name}.toml"
    return f"mlfunc deploy {invoked_as} {arguments} --name custom_model --stage Production"


def deploy_command(function: BusinessFunction, invoked_as: str | None = None) -> click.Command:
    """Build the ``mlfunc deploy`` subcommand of ``function``, its options generated from its parameters."""
    options = [_option(parameter) for parameter in function.parameters if not parameter.structured]
    structured = [parameter.name for parameter in function.parameters if parameter.structured]

    def run(
        name: str,
        stage: str | None,
        alias: str | None,
        experiment: str,
        params_path: str | None,
        assignments: tuple[str, ...],
        explain: bool,
        golden_path: str | None,
        reference_path: str | None,
        reference_column: str | None,
        force: bool,
        dry_run: bool,
        **parameters: Any,
    ) -> None:
        if (reference_path is None) != (reference_column is None):
            raise click.UsageError("--reference and --column go together: pass both or neither")
        _require_scalar_options(function, params_path, assignments, parameters)

        from mlfunc.cli.reports import print_deployment
        from mlfunc.mlflow_adapter.deploy import deploy as deploy_function
        from mlfunc.paramfiles import collect_parameters
        from mlfunc.tables import numeric_column, read_golden_cases, read_table

        values = collect_parameters(function, file=params_path, options=parameters, assignments=assignments)
        golden = read_golden_cases(golden_path) if golden_path else []
        reference = None
        if reference_path is not None and reference_column is not None:
            frame, _ = read_table(reference_path)
            source = f"reference file '{reference_path}'"
            reference = numeric_column(frame, reference_column, source=source).to_numpy()

        deployment = deploy_function(
            function,
            values,
            name=name,
            stage=stage and stage.capitalize(),
            alias=alias,
            experiment=experiment,
            golden=golden,
            reference=reference,
            force=force,
            dry_run=dry_run,
            explain=explain,
        )
        print_deployment(deployment)

    file_note = f" Set {', '.join(structured)} in a --params file or with --set NAME=JSON." if structured else ""
    return click.Command(
        invoked_as or function.name,
        callback=run,
        help=f"Deploy the {function.name} function: {function.description}.\n\n"
        "The model is logged, its golden cases are checked against the logged artifact in a fresh "
        "process, and only then is a version registered and promoted. Deploying the same code and "
        f"parameters again reuses the version that holds them.{file_note}\n\n"
        f"\b\nExample:\n  {_example(function, invoked_as or function.name)}",
        params=[
            *options,
            click.Option(
                ["--params", "params_path"],
                type=click.Path(dir_okay=False),
                help="TOML or YAML file of parameter values: one file is one version.",
            ),
            click.Option(
                ["--set", "assignments"],
                multiple=True,
                metavar="NAME=VALUE",
                help="Override one parameter; VALUE is read as JSON if it parses, else as text. Repeatable.",
            ),
            click.Option(["--name"], default="custom_model", show_default=True, help="Registered model name."),
            click.Option(["--stage"], type=STAGE_CHOICES, help="Move the new version to this stage."),
            click.Option(["--alias"], help="Point this alias (for example champion) at the new version."),
            click.Option(["--experiment"], default="mlfunc", show_default=True, help="MLflow experiment of the run."),
            click.Option(
                ["--explain"],
                is_flag=True,
                help="Add an output column 'explanation' naming the segment or rule behind each row.",
            ),
            click.Option(
                ["--golden", "golden_path"],
                type=click.Path(dir_okay=False),
                help="CSV or Parquet file of extra golden cases: columns x, expected and optionally tolerance.",
            ),
            click.Option(
                ["--reference", "reference_path"],
                type=click.Path(dir_okay=False),
                help="CSV or Parquet file of real data; its behaviour is logged as metrics.",
            ),
            click.Option(["--column", "reference_column"], help="Column of the --reference file to use."),
            click.Option(["--force"], is_flag=True, help="Create a new version even if one contains the same content."),
            click.Option(["--dry-run"], is_flag=True, help="Print what would change and change nothing."),
        ],
    )


def _require_scalar_options(
    function: BusinessFunction, params_path: str | None, assignments: tuple[str, ...], parameters: dict[str, Any]
) -> None:
    # Without a file or --set, a required option is reported by click's own
    # "Missing option" usage error, as for any required option.
    if params_path is not None or assignments:
        return
    context = click.get_current_context()
    for parameter in function.parameters:
        if parameter.required and not parameter.structured and parameters.get(parameter.name) is None:
            option = next(param for param in context.command.params if param.name == parameter.name)
            raise click.MissingParameter(ctx=context, param=option)


@main.command("functions")
@click.argument("references", nargs=-1, metavar="[FUNCTION]...")
def list_functions(references: tuple[str, ...]) -> None:
    """List the business functions mlfunc can deploy, with their columns and parameters.

    Without arguments, lists the built-in functions and those of installed
    plug-ins (entry-point group mlfunc.functions). Name a local function as
    module:attribute to describe it.

    \b
    Example:
      mlfunc functions
      mlfunc functions piecewise pricing:shipping
    """
    from mlfunc.core import available_functions, get_function

    functions = [get_function(reference) for reference in references] or list(available_functions().values())
    for index, function in enumerate(functions):
        if index:
            click.echo("")
        click.echo(_describe(function))


def _describe(function: BusinessFunction) -> str:
    title = function.reference or function.name
    lines = [f"{title}: {function.description}"]
    for label, columns in (("inputs", function.inputs), ("outputs", function.outputs)):
        lines.append(f"  {label}: " + ", ".join(f"{column.name} ({column.type})" for column in columns))
    lines.append("  parameters:")
    for parameter in function.parameters:
        unit = f", in {parameter.unit}" if parameter.unit else ""
        default = "" if parameter.required else f", default {parameter.default!r}"
        lines.append(f"    {parameter.name}: {parameter.description}{unit} ({parameter.expected()}{default})")
    return "\n".join(lines)


@main.command("new")
@click.argument("name")
@click.option(
    "--folder", default=".", show_default=True, type=click.Path(file_okay=False), help="Folder to write the files to."
)
@click.option("--force", is_flag=True, help="Replace files that exist already.")
def new(name: str, folder: str, force: bool) -> None:
    """Write a new business function NAME: its module, a parameter file and tests that pass.

    \b
    Example:
      mlfunc new shipping_cost
      pytest test_shipping_cost.py
      mlfunc deploy shipping_cost:shipping_cost --params shipping_cost.toml --name shipping_cost
    """
    from mlfunc.scaffold import scaffold_function

    for path in scaffold_function(name, folder, overwrite=force):
        click.echo(f"Wrote {path}")
