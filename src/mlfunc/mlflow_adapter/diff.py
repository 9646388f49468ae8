"""Comparing two versions of a registered model: parameters, code and outputs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import mlflow.pyfunc
import numpy as np
import numpy.typing as npt
import pandas as pd

from mlfunc.core import get_function
from mlfunc.errors import ModelNotFoundError, RegistryError
from mlfunc.mlflow_adapter.lineage import CODE_HASH_TAG, FUNCTION_TAG, PARAMETERS_TAG
from mlfunc.mlflow_adapter.loading import input_column_name, prediction_values
from mlfunc.mlflow_adapter.registry import RegisteredVersion, describe_versions, list_versions, registry_errors

GRID_POINTS = 1001
EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class ParameterChange:
    """One parameter whose value differs between the two versions (None where it is absent)."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class VersionDiff:
    """Differences between two versions of one registered model."""

    name: str
    old: str
    new: str
    functions: tuple[str, str]
    parameter_changes: tuple[ParameterChange, ...]
    code_hashes: tuple[str, str]
    inputs: str
    rows: int
    rows_changed: int
    max_abs_change: float
    examples: pd.DataFrame

    @property
    def code_changed(self) -> bool:
        return self.code_hashes[0] != self.code_hashes[1]


def _parameters(version: RegisteredVersion) -> dict[str, Any]:
    text = version.tags.get(PARAMETERS_TAG)
    if text is None:
        raise RegistryError(
            f"version {version.version} of {version.name!r} has no {PARAMETERS_TAG} tag: it was not deployed by mlfunc"
        )
    # JSON writes 5.0 as 5.0 but an older tag may hold 5; booleans stay booleans.
    return {
        key: float(value) if isinstance(value, int) and not isinstance(value, bool) else value
        for key, value in json.loads(text).items()
    }


def _grid(old: RegisteredVersion, new: RegisteredVersion) -> npt.NDArray[np.float64]:
    # A grid over both functions' plot domains that contains every breakpoint
    # of both versions, where outputs are most likely to change.
    points = [np.linspace(-10.0, 10.0, GRID_POINTS)]
    for version in (old, new):
        function = get_function(version.tags.get(FUNCTION_TAG, ""))
        low, high = function.plot_domain
        points.append(np.linspace(low, high, GRID_POINTS))
        points.append(np.asarray(function.breakpoints(_parameters(version)), dtype=np.float64))
    return np.unique(np.concatenate(points))


def diff_versions(
    name: str, old: str, new: str, *, reference: npt.NDArray[np.float64] | None = None, reference_label: str = ""
) -> VersionDiff:
    """Compare versions ``old`` and ``new`` of ``name`` on a grid, or on ``reference`` values if given."""
    versions = {version.version: version for version in list_versions(name)}
    for wanted in (old, new):
        if wanted not in versions:
            raise ModelNotFoundError(
                f"version {wanted!r} of registered model {name!r} not found: "
                f"its versions are {describe_versions(list(versions.values()))}"
            )
    before, after = versions[old], versions[new]
    old_parameters, new_parameters = _parameters(before), _parameters(after)
    changes = tuple(
        ParameterChange(key, old_parameters.get(key), new_parameters.get(key))
        for key in sorted(
            set(old_parameters) | set(new_parameters), key=list({**old_parameters, **new_parameters}).index
        )
        if old_parameters.get(key) != new_parameters.get(key)
    )

    x = reference if reference is not None else _grid(before, after)
    old_output = _predict(name, old, x)
    new_output = _predict(name, new, x)
    both_nan = np.isnan(old_output) & np.isnan(new_output)
    changed = ~both_nan & (old_output != new_output)
    change = np.abs(new_output - old_output)
    change[~changed] = 0.0
    largest = float(np.nanmax(np.where(np.isnan(change), np.inf, change))) if changed.any() else 0.0

    order = np.argsort(-np.where(np.isnan(change), np.inf, change), kind="stable")[:EXAMPLE_ROWS]
    examples = pd.DataFrame(
        {"x": x[order], "old": old_output[order], "new": new_output[order], "change": change[order]}
    )
    examples = examples[changed[order]]

    return VersionDiff(
        name=name,
        old=old,
        new=new,
        functions=(before.tags.get(FUNCTION_TAG, "?"), after.tags.get(FUNCTION_TAG, "?")),
        parameter_changes=changes,
        code_hashes=(before.tags.get(CODE_HASH_TAG, "unknown"), after.tags.get(CODE_HASH_TAG, "unknown")),
        inputs=reference_label if reference is not None else f"a grid of {len(x)} points",
        rows=len(x),
        rows_changed=int(changed.sum()),
        max_abs_change=largest,
        examples=examples.reset_index(drop=True),
    )


def _predict(name: str, version: str, x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    with registry_errors(f"loading version {version} of {name!r}"):
        model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    column = input_column_name(model) or "x"
    return prediction_values(model.predict(pd.DataFrame({column: x})))
