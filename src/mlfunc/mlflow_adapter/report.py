"""Review material for the MLflow UI: reference-data metrics and the model card."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from mlfunc.core import BusinessFunction
from mlfunc.errors import InputDataError
from mlfunc.mlflow_adapter.gate import GoldenResult


def reference_metrics(
    function: BusinessFunction, values: Mapping[str, float], x: npt.NDArray[np.float64]
) -> dict[str, float]:
    """Describe the function's behaviour on real data: rows per segment, output range, null outputs.

    Raises InputDataError for a function that is not of one number to one number.
    """
    if not function.is_curve:
        raise InputDataError(
            f"--reference applies only to a function of one double column to one double column, "
            f"and {function.name!r} has inputs {', '.join(c.name for c in function.inputs)}"
        )
    output = function.evaluate(x, **values)
    finite = output[~np.isnan(output)]
    metrics: dict[str, float] = {
        "reference_rows": float(len(x)),
        "reference_null_inputs": float(np.isnan(x).sum()),
        "reference_null_outputs": float(np.isnan(output).sum()),
    }
    if len(finite):
        metrics.update(
            reference_output_min=float(finite.min()),
            reference_output_mean=float(finite.mean()),
            reference_output_max=float(finite.max()),
        )
    if function.segment is not None:
        labels = function.segment(x, **values)
        for segment in sorted(set(labels.tolist()) - {-1}):
            metrics[f"reference_rows_segment_{segment}"] = float((labels == segment).sum())
    return metrics


def model_card(
    *,
    function: BusinessFunction,
    values: Mapping[str, float],
    name: str,
    version: str,
    golden: Sequence[GoldenResult],
    lineage: Mapping[str, str],
    metrics: Mapping[str, float],
) -> str:
    """Return the Markdown model card of one version."""
    parameter_rows = "\n".join(
        f"| `{parameter.name}` | {values[parameter.name]!r} | {parameter.description} |"
        for parameter in function.parameters
    )
    golden_rows = (
        "\n".join(
            f"| {result.case.x!r} | {result.case.expected!r} | {result.actual!r} | "
            f"{'pass' if result.passed else 'FAIL'} |"
            for result in golden
        )
        or "| (none declared) | | | |"
    )
    lineage_rows = "\n".join(f"| `{key}` | `{value}` |" for key, value in sorted(lineage.items()))
    metric_rows = "\n".join(f"| `{key}` | {value:g} |" for key, value in sorted(metrics.items()))
    column = function.input.name
    uri = f"models:/{name}/{version}"

    sections = [
        f"# {name} version {version}: {function.name}",
        f"{function.description}.",
        "## Parameters",
        f"| parameter | value | meaning |\n| --- | --- | --- |\n{parameter_rows}",
        "## Golden cases",
        "Checked against the logged model in a fresh process before registration.",
        f"| x | expected | got | result |\n| --- | --- | --- | --- |\n{golden_rows}",
    ]
    if metric_rows:
        sections += ["## Reference data", f"| metric | value |\n| --- | --- |\n{metric_rows}"]
    sections += [
        "## Lineage",
        f"| tag | value |\n| --- | --- |\n{lineage_rows}",
        "## How to call this version",
        "pandas:",
        f'```python\nimport mlflow, pandas as pd\n\nmodel = mlflow.pyfunc.load_model("{uri}")\n'
        f'model.predict(pd.DataFrame({{"{column}": [1.0, 2.0]}}))\n```',
        "Spark SQL:",
        f'```python\nudf = mlflow.pyfunc.spark_udf(spark, "{uri}", result_type="double", env_manager="local")\n'
        f'spark.udf.register("{name}_udf", udf)\nspark.sql("SELECT x, {name}_udf(x) FROM t")\n```',
        "REST, with MLflow's scoring server:",
        f"```\nmlflow models serve -m {uri} --env-manager local --host 127.0.0.1 --port 5001\n"
        f"curl -s http://127.0.0.1:5001/invocations -H 'Content-Type: application/json' \\\n"
        f'  -d \'{{"dataframe_records": [{{"{column}": 1.0}}]}}\'\n```',
    ]
    return "\n\n".join(sections) + "\n"
