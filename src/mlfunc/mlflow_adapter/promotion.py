"""Promotion and rollback of model versions, planned first so ``--dry-run`` can show the plan."""

from __future__ import annotations

import logging
import re
import warnings
from dataclasses import dataclass

import mlflow

from mlfunc.errors import ModelNotFoundError, RegistryError, RollbackError
from mlfunc.mlflow_adapter.history import Action, HistoryEvent, current_user, now_ms, read_history, record_event
from mlfunc.mlflow_adapter.registry import (
    STAGES,
    RegisteredVersion,
    describe_versions,
    list_versions,
    registry_errors,
)
from mlfunc.mlflow_adapter.registry_kind import check_registry_request
from mlfunc.mlflow_adapter.store import retry_when_locked

logger = logging.getLogger(__name__)

# MLflow's rule for alias names (3.17): letters, digits, `_` and `-`, and not
# `latest` or `v<number>`, which name versions in model URIs.
_ALIAS_PATTERN = re.compile(r"^[\w-]+$")
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)

# Stages that hold one version at a time: moving a version there archives the others.
EXCLUSIVE_STAGES = ("Staging", "Production")


@dataclass(frozen=True)
class PromotionPlan:
    """The registry changes one promotion or rollback makes."""

    name: str
    version: str
    action: Action
    stage_from: str
    stage: str | None
    archive: tuple[str, ...]
    alias: str | None
    alias_from: str | None

    @property
    def changes_nothing(self) -> bool:
        return self.stage is None and self.alias is None

    def steps(self) -> list[str]:
        """Describe each change in words, in the order it is applied."""
        described = []
        if self.stage is not None:
            described.append(f"move version {self.version} of {self.name!r} from {self.stage_from} to {self.stage}")
            described.extend(f"archive version {version} (now {self.stage})" for version in self.archive)
        if self.alias is not None:
            before = f"from version {self.alias_from}" if self.alias_from else "(new alias)"
            described.append(f"point alias @{self.alias} {before} to version {self.version}")
        return described


def validate_alias(alias: str) -> None:
    """Raise RegistryError for an alias name MLflow would reject, before anything is changed."""
    if not _ALIAS_PATTERN.match(alias) or _RESERVED_ALIAS.match(alias):
        raise RegistryError(
            f"invalid alias {alias!r}: use letters, digits, '_' and '-', and not 'latest' or 'v' followed by "
            "a number, which MLflow reserves for version numbers (for example --alias champion)"
        )


def _find(name: str, version: str, versions: list[RegisteredVersion]) -> RegisteredVersion:
    for candidate in versions:
        if candidate.version == version:
            return candidate
    raise ModelNotFoundError(
        f"version {version!r} of registered model {name!r} not found: its versions are {describe_versions(versions)}"
    )


def plan_promotion(
    name: str, version: str, *, stage: str | None = None, alias: str | None = None, action: Action = "promote"
) -> PromotionPlan:
    """Work out what promoting ``version`` of ``name`` changes, without changing anything."""
    if stage is None and alias is None:
        raise RegistryError(f"nothing to promote for {name!r} version {version}: give a stage, an alias or both")
    check_registry_request(name, stage)
    if stage is not None and stage not in STAGES:
        raise RegistryError(f"invalid stage {stage!r}: expected one of {', '.join(STAGES)}")
    if alias is not None:
        validate_alias(alias)

    versions = list_versions(name)
    target = _find(name, version, versions)
    archive: tuple[str, ...] = ()
    if stage in EXCLUSIVE_STAGES:
        archive = tuple(v.version for v in versions if v.stage == stage and v.version != version)
    alias_from = next((v.version for v in versions if alias is not None and alias in v.aliases), None)

    # Moving a version where it already is changes nothing and is left out of
    # the plan, so repeating a promotion adds no history entry.
    if stage == target.stage and not archive:
        stage = None
    if alias is not None and alias_from == version:
        alias = None

    return PromotionPlan(
        name=name,
        version=version,
        action=action,
        stage_from=target.stage,
        stage=stage,
        archive=archive,
        alias=alias,
        alias_from=alias_from,
    )


def apply_plan(plan: PromotionPlan) -> HistoryEvent | None:
    """Make the changes of ``plan`` in the registry and record them in the model's history.

    Returns the recorded event, or None when the plan changes nothing.
    """
    if plan.changes_nothing:
        logger.info("Version %s of %r is already where it was asked to go", plan.version, plan.name)
        return None

    client = mlflow.MlflowClient()
    if plan.stage is not None:
        stage = plan.stage

        def transition() -> None:
            # MLflow has deprecated stages since 2.9 in favour of aliases, but
            # `models:/NAME/Production` URIs still need them. Drop this filter
            # when MLflow removes stages.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                client.transition_model_version_stage(
                    plan.name, plan.version, stage, archive_existing_versions=stage in EXCLUSIVE_STAGES
                )

        with registry_errors(f"moving version {plan.version} of {plan.name!r} to stage {stage}"):
            retry_when_locked(transition, description=f"moving version {plan.version} to {stage}")
        logger.info("Moved version %s of %r to stage %s", plan.version, plan.name, stage)

    if plan.alias is not None:
        alias = plan.alias
        with registry_errors(f"setting alias {alias!r} on version {plan.version} of {plan.name!r}"):
            retry_when_locked(
                lambda: client.set_registered_model_alias(plan.name, alias, plan.version),
                description=f"setting alias {alias}",
            )
        logger.info("Set alias @%s of %r to version %s", alias, plan.name, plan.version)

    event = HistoryEvent(
        timestamp_ms=now_ms(),
        action=plan.action,
        version=plan.version,
        stage_from=plan.stage_from if plan.stage else None,
        stage_to=plan.stage,
        alias=plan.alias,
        alias_from=plan.alias_from,
        archived=plan.archive,
        user=current_user(),
    )
    with registry_errors(f"recording the history of {plan.name!r}"):
        retry_when_locked(lambda: record_event(plan.name, event), description="recording history")
    return event


def promote(
    name: str, version: str, *, stage: str | None = None, alias: str | None = None, dry_run: bool = False
) -> PromotionPlan:
    """Move ``version`` of ``name`` to ``stage`` (archiving the previous holder) and/or ``alias``.

    With ``dry_run`` the plan is returned and nothing changes. Raises
    ModelNotFoundError, listing the versions that exist, for an unknown version.
    """
    plan = plan_promotion(name, version, stage=stage, alias=alias)
    if not dry_run:
        apply_plan(plan)
    return plan


def plan_rollback(name: str) -> PromotionPlan:
    """Work out which version a rollback of ``name`` puts back in Production.

    The target is the latest version before the current one that entered
    Production through mlfunc, according to the model's history. Aliases that
    were set with that version's promotion and now point to the current
    version move back with it.
    """
    versions = list_versions(name)
    current = next((v for v in versions if v.stage == "Production"), None)
    with registry_errors(f"reading the history of {name!r}"):
        events = read_history(name)

    existing = {v.version for v in versions}
    current_version = current.version if current else None
    earlier = [
        event
        for event in events
        if event.stage_to == "Production" and event.version != current_version and event.version in existing
    ]
    if not earlier:
        holder = f"version {current_version} is in Production" if current_version else "no version is in Production"
        raise RollbackError(
            f"no earlier Production version of {name!r} to roll back to: {holder} and the history records "
            "no other version in Production. Promote one explicitly with: "
            f"mlfunc promote {name} VERSION --stage Production"
        )

    target = earlier[-1]
    alias = target.alias if target.alias and current and target.alias in current.aliases else None
    return plan_promotion(name, target.version, stage="Production", alias=alias, action="rollback")


def rollback(name: str, *, dry_run: bool = False) -> PromotionPlan:
    """Put the previous Production version of ``name`` back in Production, recorded in its history."""
    plan = plan_rollback(name)
    if not dry_run:
        apply_plan(plan)
    return plan
