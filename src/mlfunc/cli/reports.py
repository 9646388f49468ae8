"""Printing registry results: deployments, plans, version tables, history and diffs."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from rich.table import Table

    from mlfunc.mlflow_adapter.deploy import Deployment
    from mlfunc.mlflow_adapter.diff import VersionDiff
    from mlfunc.mlflow_adapter.history import HistoryEvent
    from mlfunc.mlflow_adapter.promotion import PromotionPlan
    from mlfunc.mlflow_adapter.registry import RegisteredVersion

# Wide enough that a table piped to a file or a test is not wrapped.
_PLAIN_WIDTH = 200


def print_table(table: Table) -> None:
    from rich.console import Console

    console = Console(width=None if sys.stdout.isatty() else _PLAIN_WIDTH)
    console.print(table)


def print_plan(plan: PromotionPlan, *, dry_run: bool) -> None:
    if plan.changes_nothing:
        click.echo(f"Nothing to change: version {plan.version} of {plan.name!r} is already there")
        return
    if dry_run:
        click.echo("Dry run: nothing was changed. Would:")
        for step in plan.steps():
            click.echo(f"  - {step}")
        return
    for step in plan.steps():
        click.echo(step[0].upper() + step[1:])


def print_deployment(deployment: Deployment) -> None:
    if deployment.dry_run and deployment.version is None:
        click.echo("Dry run: nothing was changed. Would:")
        for step in deployment.steps:
            click.echo(f"  - {step}")
        return

    if deployment.created:
        click.echo(f"Deployed {deployment.registry_uri} (run {deployment.run_id}) to {deployment.tracking_uri}")
        click.echo(f"Golden cases: {len(deployment.golden)} passed on the logged model, loaded in a fresh process")
    else:
        click.echo(
            f"Version {deployment.version} of {deployment.name!r} already holds this code and these parameters, "
            "so no version was added. Pass --force to add one anyway."
        )
    if deployment.promotion is not None:
        print_plan(deployment.promotion, dry_run=deployment.dry_run)


def _created(milliseconds: int) -> str:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def print_versions(versions: Sequence[RegisteredVersion]) -> None:
    from rich.table import Table

    from mlfunc.mlflow_adapter.lineage import GIT_COMMIT_TAG, PARAMETERS_TAG

    table = Table("version", "stage", "aliases", "parameters", "git commit", "created", "description")
    for version in versions:
        commit = version.tags.get(GIT_COMMIT_TAG, "")[:10]
        if commit and version.tags.get("mlfunc.git.dirty") == "true":
            commit += " (dirty)"
        table.add_row(
            version.version,
            version.stage,
            ", ".join(f"@{alias}" for alias in version.aliases),
            version.tags.get(PARAMETERS_TAG, ""),
            commit,
            _created(version.created_ms),
            version.description,
        )
    print_table(table)


def print_history(events: Sequence[HistoryEvent]) -> None:
    from rich.table import Table

    table = Table("time", "action", "version", "stage from", "stage to", "alias", "archived", "user")
    for event in events:
        alias = ""
        if event.alias:
            alias = f"@{event.alias}" + (f" (was {event.alias_from})" if event.alias_from else "")
        table.add_row(
            _created(event.timestamp_ms),
            event.action,
            event.version,
            event.stage_from or "",
            event.stage_to or "",
            alias,
            ", ".join(event.archived),
            event.user,
        )
    print_table(table)


def print_diff(diff: VersionDiff) -> None:
    click.echo(f"{diff.name}: version {diff.old} -> version {diff.new}")
    if diff.functions[0] != diff.functions[1]:
        click.echo(f"Function: {diff.functions[0]} -> {diff.functions[1]}")

    if diff.parameter_changes:
        click.echo("Parameters:")
        for change in diff.parameter_changes:
            click.echo(f"  {change.name}: {change.old!r} -> {change.new!r}")
    else:
        click.echo("Parameters: identical")

    if diff.code_changed:
        click.echo(f"Code: changed ({diff.code_hashes[0][:12]} -> {diff.code_hashes[1][:12]})")
    else:
        click.echo("Code: identical")

    click.echo(
        f"Outputs on {diff.inputs}: {diff.rows_changed} of {diff.rows} rows changed, "
        f"largest absolute change {diff.max_abs_change:g}"
    )
    if len(diff.examples):
        click.echo("Largest changes:")
        click.echo("\n".join(f"  {line}" for line in diff.examples.to_string(index=False).splitlines()))
