"""The core must stay importable without MLflow, Spark or the CLI framework."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("mlflow", "pyspark", "click", "requests", "sklearn", "matplotlib")


def test_core_imports_no_adapter_libraries() -> None:
    script = (
        "import sys, mlfunc.core, mlfunc.errors, mlfunc.tables\n"
        f"loaded = sorted(m for m in {FORBIDDEN!r} if m in sys.modules)\n"
        "print(','.join(loaded))\n"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == ""


def test_package_import_is_lazy() -> None:
    script = "import sys, mlfunc; print('mlflow' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"
