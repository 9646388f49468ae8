"""Helpers shared by the benchmark scripts: timing, machine description, verdicts.

The scripts measure; they are not tests. Each prints its figures and, for each
goal, the measured ratio with PASS or MISS. Run them on a quiet machine, and
run a noisy figure again: other processes on a shared machine slow any run.
"""

from __future__ import annotations

import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

HYBRID_PARAMETERS = {"x0": 5.0, "y0": 2.0, "gradient": 1.5}


def machine_description() -> str:
    """Return the CPU model, core count, load and package versions, for the record."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    packages = ", ".join(
        f"{name} {metadata.version(name)}" for name in ("numpy", "pandas", "pyarrow", "mlflow", "numba", "pyspark")
        if _installed(name)
    )
    return (
        f"{model}, {os.cpu_count()} cores (nproc), load average {load}; "
        f"Python {platform.python_version()}; {packages}"
    )


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def median_seconds(action: Callable[[], object], *, repeats: int, warmup: int = 1) -> float:
    """Run ``action`` ``warmup`` times unmeasured, then return the median of ``repeats`` timed runs."""
    for _ in range(warmup):
        action()
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def paired_medians(
    baseline: Callable[[], object], candidate: Callable[[], object], *, repeats: int, warmup: int = 1
) -> tuple[float, float, float]:
    """Time ``baseline`` and ``candidate`` alternately; return their median seconds and the median ratio.

    The ratio is baseline time over candidate time, paired run by run, so a
    change of load on a shared machine moves both sides of each pair alike.
    """
    for _ in range(warmup):
        baseline()
        candidate()
    baseline_times, candidate_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        baseline()
        middle = time.perf_counter()
        candidate()
        end = time.perf_counter()
        baseline_times.append(middle - start)
        candidate_times.append(end - middle)
    ratios = [base / other for base, other in zip(baseline_times, candidate_times, strict=True)]
    return statistics.median(baseline_times), statistics.median(candidate_times), statistics.median(ratios)


def verdict(
    name: str, measured: float, goal: float, *, higher_is_better: bool, unit: str = "", digits: int = 3
) -> str:
    """Format one goal as ``name: measured (goal ...) PASS|MISS``."""
    met = measured >= goal if higher_is_better else measured <= goal
    relation = ">=" if higher_is_better else "<="
    return (
        f"{name}: {measured:.{digits}g}{unit} (goal {relation} {goal:.{digits}g}{unit}) {'PASS' if met else 'MISS'}"
    )


@contextmanager
def throwaway_store() -> Iterator[Path]:
    """Point mlfunc at an embedded MLflow store in a temporary folder for the duration of the block."""
    saved = {name: os.environ.get(name) for name in ("MLFUNC_HOME", "MLFLOW_TRACKING_URI")}
    with tempfile.TemporaryDirectory(prefix="mlfunc-bench-") as home:
        os.environ["MLFUNC_HOME"] = home
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        try:
            yield Path(home)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def deploy_benchmark_model(name: str = "bench_model") -> str:
    """Deploy the hybrid function to the current store and return its registry URI."""
    import logging

    from mlfunc.core import HYBRID
    from mlfunc.mlflow_adapter.deploy import deploy

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    deployment = deploy(HYBRID, HYBRID_PARAMETERS, name=name, stage="Production")
    return deployment.registry_uri
