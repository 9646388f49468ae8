"""Peak resident memory of ``mlfunc predict`` on Parquet files of 1 and 10 million rows.

Goal: flat memory, meaning the peak resident set of the command does not
grow with the file's size. Each size runs in a fresh process, which reports
its own peak resident set (VmHWM in /proc/self/status) when it ends. ``--csv`` also scores CSV
files of the same rows into CSV.

    python benchmarks/streaming.py [--sizes 1000000 10000000] [--csv]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from _common import deploy_benchmark_model, machine_description, throwaway_store, verdict

# Growth of the peak resident set from the smallest to the largest file that
# still counts as flat: run-to-run noise of a Python process with MLflow loaded.
FLAT_TOLERANCE = 1.10


def write_input(folder: Path, rows: int, suffix: str) -> Path:
    """Write ``rows`` rows: an id, the scored column x (some missing) and a label."""
    rng = np.random.default_rng(rows)
    x = rng.uniform(-10, 20, rows)
    table = pa.table(
        {
            "id": np.arange(rows),
            "x": pa.array(x, mask=np.arange(rows) % 1000 == 0),
            "label": pa.array(np.where(x < 5, "low", "high")),
        }
    )
    path = folder / f"input_{rows}{suffix}"
    if suffix == ".parquet":
        pq.write_table(table, path)
    else:
        pa_csv.write_csv(table, path)
    return path


# Runs the command in this fresh process, then reports the process's own peak
# resident set. VmHWM starts afresh at exec, whereas the ru_maxrss of a child
# also counts the parent's resident set at fork.
RUN_AND_REPORT = """
import sys
from mlfunc.cli import main
try:
    main(sys.argv[1:], standalone_mode=False)
finally:
    status = dict(line.split(":", 1) for line in open("/proc/self/status"))
    print("VmHWM", int(status["VmHWM"].split()[0]) * 1024, file=sys.stderr)
"""


def run_predict(model_uri: str, source: Path, target: Path) -> tuple[float, int]:
    """Run ``mlfunc predict`` in a fresh process; return its wall seconds and peak resident bytes."""
    arguments = ["-q", "predict", model_uri, "--input", str(source), "--column", "x", "--output", str(target)]
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT, *arguments], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    reports = [line.split()[1] for line in completed.stderr.splitlines() if line.startswith("VmHWM ")]
    if completed.returncode != 0 or not reports:
        raise RuntimeError(f"mlfunc predict failed: {completed.stderr}")
    return seconds, int(reports[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000], help="Rows per file.")
    parser.add_argument("--csv", action="store_true", help="Also score CSV files into CSV.")
    arguments = parser.parse_args()
    print(f"Machine: {machine_description()}")

    suffixes = [".parquet", ".csv"] if arguments.csv else [".parquet"]
    with throwaway_store(), tempfile.TemporaryDirectory(prefix="mlfunc-stream-") as scratch:
        folder = Path(scratch)
        model_uri = deploy_benchmark_model()
        for suffix in suffixes:
            peaks = {}
            for rows in arguments.sizes:
                source = write_input(folder, rows, suffix)
                seconds, peak = run_predict(model_uri, source, folder / f"output_{rows}{suffix}")
                peaks[rows] = peak
                print(f"{suffix[1:]} {rows} rows: {seconds:.1f} s wall (with start-up and model load), "
                      f"{rows / seconds / 1e6:.2f} M rows/s, peak resident {peak / 2**20:.0f} MiB")
                source.unlink()
            smallest, largest = min(peaks), max(peaks)
            growth = peaks[largest] / peaks[smallest]
            print(verdict(f"{suffix[1:]} peak resident at {largest} rows / at {smallest} rows", growth,
                          FLAT_TOLERANCE, higher_is_better=False))


if __name__ == "__main__":
    main()
