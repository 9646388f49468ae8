"""The validation gate: golden cases checked against the logged artifact in a fresh process.

The check runs in a new interpreter that loads the model by URI exactly as a
user would, so it also proves that the version loads from its own logged
code (the child reports where ``mlfunc`` was imported from).
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mlflow

from mlfunc.core import BusinessFunction, GoldenCase
from mlfunc.errors import ValidationError

logger = logging.getLogger(__name__)

GATE_TIMEOUT_SECONDS = 300

# Run in the child interpreter. It imports only MLflow and pandas, so mlfunc
# comes from the model's code folder, which MLflow puts first on sys.path.
_CHILD_SCRIPT = """
import json, sys
import mlflow, pandas as pd
request = json.loads(sys.stdin.read())
mlflow.set_tracking_uri(request["tracking_uri"])
model = mlflow.pyfunc.load_model(request["model_uri"])
frame = pd.DataFrame(request["rows"], columns=request["columns"])
output = pd.DataFrame(model.predict(frame))
rows = [{str(k): (None if v is None else v if isinstance(v, str) else float(v)) for k, v in row.items()}
        for row in output.astype(object).where(output.notna(), None).to_dict("records")]
rows = [{k: float("nan") if v is None and k in request["double_outputs"] else v for k, v in row.items()}
        for row in rows]
module = sys.modules.get("mlfunc")
print(json.dumps({"y": rows, "mlfunc_origin": getattr(module, "__file__", None)}))
"""


@dataclass(frozen=True)
class GoldenResult:
    """One golden case with the output the logged version gave."""

    case: GoldenCase
    actual: Any

    @property
    def passed(self) -> bool:
        return self.case.passes(self.actual)

    def describe(self) -> str:
        tolerance = f" (tolerance {self.case.tolerance:g})" if self.case.tolerance else ""
        if isinstance(self.case.x, dict):
            inputs = ", ".join(f"{name}={value!r}" for name, value in self.case.x.items())
        else:
            inputs = f"x={self.case.x!r}"
        return f"{inputs}: expected {self.case.expected!r}{tolerance}, got {self.actual!r}"


@dataclass(frozen=True)
class GateReport:
    """The golden-case results of one logged model and where its code was imported from."""

    results: tuple[GoldenResult, ...]
    mlfunc_origin: str | None

    @property
    def failures(self) -> tuple[GoldenResult, ...]:
        return tuple(result for result in self.results if not result.passed)


def run_gate(model_uri: str, function: BusinessFunction, cases: Sequence[GoldenCase]) -> GateReport:
    """Load ``model_uri`` in a fresh interpreter and evaluate every golden case.

    Raises ValidationError listing each failing case (input, expected, got),
    or naming the load failure, so the caller registers nothing.
    """
    if not cases:
        return GateReport(results=(), mlfunc_origin=None)

    request = {
        "tracking_uri": mlflow.get_tracking_uri(),
        "model_uri": model_uri,
        "columns": [column.name for column in function.inputs],
        "rows": [case.inputs(function.inputs) for case in cases],
        "double_outputs": [column.name for column in function.outputs if column.numeric],
    }
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _CHILD_SCRIPT],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=GATE_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ValidationError(
            f"golden-case check of {model_uri} timed out after {GATE_TIMEOUT_SECONDS} s while loading the model"
        ) from exc

    if completed.returncode != 0:
        last_line = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValidationError(f"golden-case check could not load {model_uri} in a fresh process: {last_line}")

    answer = json.loads(completed.stdout.strip().splitlines()[-1])
    results = tuple(
        GoldenResult(case, _actual(case, row, function)) for case, row in zip(cases, answer["y"], strict=True)
    )
    report = GateReport(results=results, mlfunc_origin=answer["mlfunc_origin"])

    if report.failures:
        details = "; ".join(result.describe() for result in report.failures)
        raise ValidationError(
            f"{len(report.failures)} of {len(results)} golden cases failed for {model_uri}, "
            f"so nothing was registered: {details}"
        )
    logger.info("All %d golden cases passed for %s", len(results), model_uri)
    return report


def _actual(case: GoldenCase, row: dict[str, Any], function: BusinessFunction) -> Any:
    # A case with one expected value is compared with the first output
    # column, a case with a mapping with the columns it names.
    if isinstance(case.expected, dict):
        return row
    return row.get(function.output.name)
