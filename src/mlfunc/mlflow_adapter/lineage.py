"""Where a deployment came from: the git state of the working directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

GIT_TIMEOUT_SECONDS = 10


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def git_tags(cwd: Path | None = None) -> dict[str, str]:
    """Return the commit and dirty flag of the git working tree at ``cwd`` as MLflow tags.

    Returns an empty dict outside a git working tree or where git is not installed.
    """
    folder = cwd or Path.cwd()
    commit = _git(["rev-parse", "HEAD"], folder)
    if commit is None:
        return {}

    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    return {"mlfunc.git.commit": commit, "mlfunc.git.dirty": str(bool(status)).lower()}
