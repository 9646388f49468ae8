"""Concurrent deploys and promotions against one SQLite store, as separate processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlfunc.mlflow_adapter.history import read_history
from mlfunc.mlflow_adapter.registry import list_versions
from mlfunc.mlflow_adapter.store import use_store

pytestmark = pytest.mark.slow

PROCESSES = 8


def _run_all(commands: list[list[str]], env: dict[str, str]) -> list[subprocess.CompletedProcess[str]]:
    started = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for command in commands
    ]
    results = []
    for process in started:
        stdout, stderr = process.communicate(timeout=600)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr))
    return results


def test_concurrent_deploys_and_promotions(tmp_path: Path) -> None:
    # A fresh store of its own, so the first processes also race on creating it.
    env = {**os.environ, "MLFUNC_HOME": str(tmp_path / "home")}
    env.pop("MLFLOW_TRACKING_URI", None)
    cli = [sys.executable, "-m", "mlfunc", "-q"]

    deploys = _run_all(
        [
            [*cli, "deploy", "hybrid", "--x0", str(i), "--y0", "0", "--gradient", "1", "--name", "conc"]
            for i in range(PROCESSES)
        ],
        env,
    )
    for result in deploys:
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr

    promotions = _run_all(
        [[*cli, "promote", "conc", str(version), "--stage", "Production"] for version in range(1, PROCESSES + 1)],
        env,
    )
    for result in promotions:
        assert result.returncode == 0, result.stderr

    previous = os.environ.get("MLFUNC_HOME")
    # An earlier in-process use_store() exported the session store as
    # MLFLOW_TRACKING_URI, which would win over MLFUNC_HOME, so it is removed
    # while this store is read and set again afterwards.
    previous_uri = os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ["MLFUNC_HOME"] = env["MLFUNC_HOME"]
    try:
        use_store()
        versions = list_versions("conc")
        history = read_history("conc")
    finally:
        os.environ["MLFUNC_HOME"] = previous or ""
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        if previous_uri is not None:
            os.environ["MLFLOW_TRACKING_URI"] = previous_uri
        use_store()

    assert sorted(int(v.version) for v in versions) == list(range(1, PROCESSES + 1))
    assert len({v.tags["mlfunc.parameters_hash"] for v in versions}) == PROCESSES
    assert [v.stage for v in versions].count("Production") == 1
    assert len(history) == PROCESSES
    assert {event.version for event in history} == {str(v) for v in range(1, PROCESSES + 1)}
