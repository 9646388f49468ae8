"""Start-up time of the mlfunc command, each run in a fresh process.

Goals: ``mlfunc --help`` prints its help in under 0.3 s and ``mlfunc versions`` in
under 1.5 s. This script times the import of the registry module that
``mlfunc versions`` uses, next to ``import mlflow`` alone, because a command
that lists versions cannot start faster than MLflow imports.

    python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import deploy_benchmark_model, machine_description, throwaway_store, verdict

MLFUNC = str(Path(sys.executable).parent / "mlfunc")
VERSIONS = "mlfunc versions bench_model"


def median_wall_seconds(command: list[str], runs: int) -> float | None:
    """Return the median wall time of ``command`` over ``runs`` runs, or None if it fails."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        completed = subprocess.run(command, capture_output=True, check=False)
        timings.append(time.perf_counter() - start)
        if completed.returncode != 0:
            return None
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command; the median is shown.")
    arguments = parser.parse_args()
    print(f"Machine: {machine_description()}")

    python = [sys.executable, "-c"]
    commands = {
        "python -c pass (interpreter alone)": [*python, "pass"],
        "mlfunc --help": [MLFUNC, "--help"],
        "mlfunc promote --help": [MLFUNC, "promote", "--help"],
        "mlfunc predict --help": [MLFUNC, "predict", "--help"],
        "import mlflow": [*python, "import mlflow"],
        "import mlfunc.mlflow_adapter.registry": [*python, "import mlfunc.mlflow_adapter.registry"],
    }
    with throwaway_store():
        timings = {name: median_wall_seconds(command, arguments.runs) for name, command in commands.items()}
        # Time `mlfunc versions` where it exists, on a store that has a model to list.
        if median_wall_seconds([MLFUNC, "versions", "--help"], 1) is not None:
            deploy_benchmark_model()
            timings[VERSIONS] = median_wall_seconds([MLFUNC, "versions", "bench_model"], arguments.runs)
        else:
            timings[VERSIONS] = None

    for name, seconds in timings.items():
        print(f"{name}: {'not available' if seconds is None else f'{seconds:.3f} s'}")

    for name in ("mlfunc --help", "mlfunc promote --help", "mlfunc predict --help"):
        seconds = timings[name]
        if seconds is not None:
            print(verdict(name, seconds, 0.3, higher_is_better=False, unit=" s"))
    versions = timings[VERSIONS]
    if versions is not None:
        print(verdict("mlfunc versions", versions, 1.5, higher_is_better=False, unit=" s"))
    registry = timings["import mlfunc.mlflow_adapter.registry"]
    if registry is not None:
        print(verdict("registry import (stands in for mlfunc versions)", registry, 1.5, higher_is_better=False,
                      unit=" s"))


if __name__ == "__main__":
    main()
