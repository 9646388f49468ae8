"""Promotion history, kept as tags of the registered model.

Each promotion or rollback adds one tag whose key is unique (a nanosecond
timestamp and a random suffix), so concurrent writers never overwrite each
other and no read-modify-write is needed. The history lives in the registry
itself and so works against a remote tracking server and survives restarts.
"""

from __future__ import annotations

import getpass
import json
import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Literal

import mlflow

HISTORY_TAG_PREFIX = "mlfunc.history."
USER_ENV = "MLFUNC_USER"

Action = Literal["promote", "rollback"]


@dataclass(frozen=True)
class HistoryEvent:
    """One promotion or rollback of a model version."""

    timestamp_ms: int
    action: Action
    version: str
    stage_from: str | None
    stage_to: str | None
    alias: str | None
    alias_from: str | None
    archived: tuple[str, ...]
    user: str

    @property
    def time(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=UTC)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HistoryEvent:
        data = json.loads(text)
        data["archived"] = tuple(data.get("archived", ()))
        return cls(**data)


def current_user() -> str:
    """Return who acts: ``$MLFUNC_USER`` if set, else the login name."""
    configured = os.environ.get(USER_ENV)
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def record_event(name: str, event: HistoryEvent) -> None:
    """Append ``event`` to the history of registered model ``name``."""
    key = f"{HISTORY_TAG_PREFIX}{time.time_ns():020d}.{uuid.uuid4().hex[:8]}"
    mlflow.MlflowClient().set_registered_model_tag(name, key, event.to_json())


def read_history(name: str) -> list[HistoryEvent]:
    """Return the history of registered model ``name``, oldest first."""
    model = mlflow.MlflowClient().get_registered_model(name)
    tags = model.tags or {}
    events = [HistoryEvent.from_json(tags[key]) for key in sorted(tags) if key.startswith(HISTORY_TAG_PREFIX)]
    return sorted(events, key=lambda event: event.timestamp_ms)


def production_at(events: Iterable[HistoryEvent], moment: datetime) -> str | None:
    """Return the version that was in Production at ``moment``, replaying ``events`` in order."""
    limit_ms = int(moment.timestamp() * 1000)
    holder: str | None = None
    for event in events:
        if event.timestamp_ms > limit_ms:
            break
        if event.stage_to == "Production":
            holder = event.version
        elif event.version == holder and event.stage_to is not None:
            holder = None
    return holder


def now_ms() -> int:
    return int(time.time() * 1000)
