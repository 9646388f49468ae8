"""Settings read from the environment, shared by the adapters."""

from __future__ import annotations

import os
from pathlib import Path

HOME_ENV = "MLFUNC_HOME"


def mlfunc_home() -> Path:
    """Return mlfunc's own folder: ``$MLFUNC_HOME`` if set, else ``~/.mlfunc``.

    It holds the embedded MLflow store and the Spark log.
    """
    configured = os.environ.get(HOME_ENV)
    return Path(configured).expanduser().resolve() if configured else Path.home() / ".mlfunc"
