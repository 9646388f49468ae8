"""Registry commands: versions, promote, history, rollback and diff."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from mlfunc.cli.main import STAGE_CHOICES, main


def _use_store() -> None:
    from mlfunc.mlflow_adapter.store import use_store

    use_store()


@main.command()
@click.argument("name")
def versions(name: str) -> None:
    """List the versions of registered model NAME with stage, aliases, parameters and lineage.

    \b
    Example:
      mlfunc versions custom_model
    """
    from mlfunc.cli.reports import print_versions
    from mlfunc.mlflow_adapter.registry import list_versions

    _use_store()
    print_versions(list_versions(name))


@main.command()
@click.argument("name")
@click.argument("version")
@click.option("--stage", type=STAGE_CHOICES, help="Move the version to this stage, archiving the previous holder.")
@click.option("--alias", help="Point this alias at the version.")
@click.option("--dry-run", is_flag=True, help="Print what would change and change nothing.")
def promote(name: str, version: str, stage: str | None, alias: str | None, dry_run: bool) -> None:
    """Move VERSION of registered model NAME to a stage and/or an alias, recorded in its history.

    \b
    Example:
      mlfunc promote custom_model 3 --stage Production --alias champion
    """
    if stage is None and alias is None:
        raise click.UsageError("nothing to do: pass --stage, --alias or both")

    from mlfunc.cli.reports import print_plan
    from mlfunc.mlflow_adapter.promotion import promote as promote_version

    _use_store()
    plan = promote_version(name, version, stage=stage and stage.capitalize(), alias=alias, dry_run=dry_run)
    print_plan(plan, dry_run=dry_run)


def _parse_time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(
            f"expected an ISO 8601 time such as 2026-01-31T14:00:00Z, got {value!r}", param_hint="--at"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@main.command()
@click.argument("name")
@click.option(
    "--at", "at_time", help="Also say which version was in Production at this ISO 8601 time (UTC if no zone)."
)
def history(name: str, at_time: str | None) -> None:
    """Show every promotion and rollback of registered model NAME, oldest first.

    \b
    Example:
      mlfunc history custom_model --at 2026-01-31T14:00:00Z
    """
    moment = _parse_time(at_time) if at_time else None

    from mlfunc.cli.reports import print_history
    from mlfunc.mlflow_adapter.history import production_at, read_history
    from mlfunc.mlflow_adapter.registry import list_versions, registry_errors

    _use_store()
    list_versions(name)  # raises ModelNotFoundError, listing the registered models
    with registry_errors(f"reading the history of {name!r}"):
        events = read_history(name)
    print_history(events)

    if moment is not None:
        holder = production_at(events, moment)
        when = moment.isoformat()
        if holder is None:
            click.echo(f"At {when}, no version of {name!r} was in Production according to its history.")
        else:
            click.echo(f"At {when}, version {holder} of {name!r} was in Production.")


@main.command()
@click.argument("name")
@click.option("--dry-run", is_flag=True, help="Print what would change and change nothing.")
def rollback(name: str, dry_run: bool) -> None:
    """Put the previous Production version of registered model NAME back in Production.

    \b
    Example:
      mlfunc rollback custom_model --dry-run
    """
    from mlfunc.cli.reports import print_plan
    from mlfunc.mlflow_adapter.promotion import rollback as rollback_model

    _use_store()
    print_plan(rollback_model(name, dry_run=dry_run), dry_run=dry_run)


@main.command()
@click.argument("name")
@click.argument("old")
@click.argument("new")
@click.option("--reference", "reference_path", type=click.Path(dir_okay=False), help="Compare on this file's rows.")
@click.option("--column", "reference_column", help="Column of the --reference file.")
def diff(name: str, old: str, new: str, reference_path: str | None, reference_column: str | None) -> None:
    """Compare versions OLD and NEW of registered model NAME: parameters, code and outputs.

    Outputs are compared on a grid that contains every breakpoint, or on a
    column of real data with --reference and --column.

    \b
    Example:
      mlfunc diff custom_model 1 2 --reference wine.csv --column alcohol
    """
    if (reference_path is None) != (reference_column is None):
        raise click.UsageError("--reference and --column go together: pass both or neither")

    from mlfunc.cli.reports import print_diff
    from mlfunc.mlflow_adapter.diff import diff_versions
    from mlfunc.tables import numeric_column, read_table

    reference = None
    label = ""
    if reference_path is not None and reference_column is not None:
        frame, _ = read_table(reference_path)
        reference = numeric_column(frame, reference_column, source=f"reference file '{reference_path}'").to_numpy()
        label = f"column {reference_column!r} of '{reference_path}'"

    _use_store()
    print_diff(diff_versions(name, old, new, reference=reference, reference_label=label))
