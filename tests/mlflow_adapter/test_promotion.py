"""Promotion, history and rollback on a real SQLite-backed registry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import mlflow
import pytest

from mlfunc.errors import ModelNotFoundError, RollbackError
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.mlflow_adapter.history import production_at, read_history
from mlfunc.mlflow_adapter.promotion import promote, rollback
from mlfunc.mlflow_adapter.registry import list_versions


def _stages(name: str) -> dict[str, str]:
    return {version.version: version.stage for version in list_versions(name)}


def _aliases(name: str) -> dict[str, tuple[str, ...]]:
    return {version.version: version.aliases for version in list_versions(name)}


@pytest.fixture
def three_versions(deployed: Deployment, request: pytest.FixtureRequest) -> str:
    """A registered model of its own per test, with versions 1 to 3 in stage None.

    The versions are registered straight from the shared logged model:
    promotion only touches the registry, so logging three models per test
    would add minutes and test nothing more.
    """
    name = f"promo_{request.node.name[:40]}"
    client = mlflow.MlflowClient()
    client.create_registered_model(name)
    for _ in range(3):
        client.create_model_version(name, source=str(deployed.model_uri), run_id=deployed.run_id)
    return name


def test_promote_archives_previous_and_records_history(three_versions: str) -> None:
    name = three_versions
    promote(name, "1", stage="Production", alias="champion")
    promote(name, "2", stage="Production", alias="champion")

    assert _stages(name) == {"1": "Archived", "2": "Production", "3": "None"}
    assert _aliases(name)["2"] == ("champion",)
    events = read_history(name)
    assert [(e.action, e.version, e.stage_from, e.stage_to) for e in events] == [
        ("promote", "1", "None", "Production"),
        ("promote", "2", "None", "Production"),
    ]
    assert events[1].archived == ("1",)
    assert events[1].alias_from == "1"
    assert events[1].user


def test_promote_dry_run_changes_nothing(three_versions: str) -> None:
    plan = promote(three_versions, "3", stage="Production", alias="champion", dry_run=True)
    assert plan.steps()[0] == f"move version 3 of {three_versions!r} from None to Production"
    assert _stages(three_versions)["3"] == "None"
    assert read_history(three_versions) == []


def test_promote_again_records_nothing(three_versions: str) -> None:
    promote(three_versions, "1", stage="Production", alias="champion")
    plan = promote(three_versions, "1", stage="Production", alias="champion")
    assert plan.changes_nothing
    assert len(read_history(three_versions)) == 1


def test_promote_missing_version_lists_versions(three_versions: str) -> None:
    with pytest.raises(ModelNotFoundError, match=r"version '9' .* not found: its versions are 1 \(None\), 2 \(None\)"):
        promote(three_versions, "9", stage="Production")


def test_rollback_restores_previous_production(three_versions: str) -> None:
    name = three_versions
    promote(name, "1", stage="Production", alias="champion")
    promote(name, "3", stage="Production", alias="champion")

    dry = rollback(name, dry_run=True)
    assert dry.version == "1"
    assert _stages(name)["3"] == "Production"

    plan = rollback(name)
    assert plan.version == "1"
    assert _stages(name) == {"1": "Production", "2": "None", "3": "Archived"}
    assert _aliases(name)["1"] == ("champion",)
    last = read_history(name)[-1]
    assert (last.action, last.version, last.stage_from, last.archived) == ("rollback", "1", "Archived", ("3",))


def test_rollback_without_earlier_version(three_versions: str) -> None:
    promote(three_versions, "2", stage="Production")
    with pytest.raises(RollbackError, match=r"no earlier Production version .* version 2 is in Production"):
        rollback(three_versions)


def test_history_answers_production_at_time(three_versions: str) -> None:
    name = three_versions
    promote(name, "1", stage="Production")
    promote(name, "2", stage="Production")
    events = read_history(name)

    before = events[0].time - timedelta(seconds=1)
    assert production_at(events, before) is None
    assert production_at(events, events[0].time) == "1"
    assert production_at(events, events[1].time) == "2"
    assert production_at(events, datetime.now(tz=UTC)) == "2"
