"""Lineage of a version: git state, package versions and hashes of code and parameters.

All of it is recorded as tags on the run and the model version, so it lives
in the registry and survives a restart of the tracking server.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlfunc
from mlfunc.core import BusinessFunction

GIT_TIMEOUT_SECONDS = 10

FUNCTION_TAG = "mlfunc.function"
PARAMETERS_TAG = "mlfunc.parameters"
PARAMETERS_HASH_TAG = "mlfunc.parameters_hash"
CODE_HASH_TAG = "mlfunc.code_hash"
GIT_COMMIT_TAG = "mlfunc.git.commit"


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        completed = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT_SECONDS, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return completed.stdout.strip() if completed.returncode == 0 else None


def strip_credentials(url: str) -> str:
    """Return a git remote URL without any ``user:password@`` or token part."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urllib.parse.urlunsplit(parts._replace(netloc=host))


def git_tags(cwd: Path | None = None) -> dict[str, str]:
    """Return commit, branch, dirty flag and remote URL of the git working tree at ``cwd``.

    Returns an empty dict outside a git working tree or where git is not installed.
    """
    folder = cwd or Path.cwd()
    commit = _git(["rev-parse", "HEAD"], folder)
    if commit is None:
        return {}

    tags = {GIT_COMMIT_TAG: commit}
    status = _git(["status", "--porcelain", "--untracked-files=no"], folder)
    tags["mlfunc.git.dirty"] = str(bool(status)).lower()
    branch = _git(["rev-parse", "--abbrev-ref", "HEAD"], folder)
    if branch and branch != "HEAD":
        tags["mlfunc.git.branch"] = branch
    remote = _git(["remote", "get-url", "origin"], folder)
    if remote:
        tags["mlfunc.git.remote"] = strip_credentials(remote)
    return tags


def parameters_hash(function: BusinessFunction, values: Mapping[str, Any], *, explain: bool = False) -> str:
    """Return a SHA-256 of the function name and its parameters, independent of their order.

    The explanation column counts only when it is on, so the hash of a
    version without it is the same as before that option existed.
    """
    content: dict[str, Any] = {"function": function.reference or function.name, "parameters": dict(values)}
    if explain:
        content["explain"] = True
    canonical = json.dumps(content, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def code_hash(function: BusinessFunction) -> str:
    """Return a SHA-256 of the source file that defines the function's ``evaluate``."""
    source = inspect.getsourcefile(function.evaluate)
    if source is None:
        return "unknown"
    return hashlib.sha256(Path(source).read_bytes()).hexdigest()


def lineage_tags(
    function: BusinessFunction, values: Mapping[str, Any], cwd: Path | None = None, *, explain: bool = False
) -> dict[str, str]:
    """Return every lineage tag of a deployment of ``function`` with ``values``."""
    return {
        FUNCTION_TAG: function.reference or function.name,
        PARAMETERS_TAG: json.dumps(dict(values), sort_keys=True),
        PARAMETERS_HASH_TAG: parameters_hash(function, values, explain=explain),
        CODE_HASH_TAG: code_hash(function),
        "mlfunc.version": mlfunc.__version__,
        "mlfunc.python": platform.python_version(),
        **git_tags(cwd),
    }
