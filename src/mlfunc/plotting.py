"""Plots of business functions over their domain, marking the breakpoints."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from mlfunc.core import BusinessFunction
from mlfunc.core.function import describe_arguments
from mlfunc.tables import atomic_output

_SAMPLES = 1001
_MAX_LEGEND_ARGUMENTS = 60


def plot_function(
    function: BusinessFunction, parameters: Mapping[str, object], output: str | Path, *, title: str | None = None
) -> Path:
    """Draw ``function`` over its plot domain as a PNG file, marking each breakpoint."""
    values = function.validate(parameters)

    # matplotlib is imported here so that `import mlfunc.plotting` stays cheap,
    # and with the Agg backend so that no display is needed.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    breakpoints = function.breakpoints(values)
    low, high = function.plot_domain
    low, high = min(low, *breakpoints, low), max(high, *breakpoints, high)
    # The breakpoints themselves are sampled so the plot shows each jump exactly.
    x = np.union1d(np.linspace(low, high, _SAMPLES), breakpoints)
    y = function.evaluate(x, **values)
    arguments = describe_arguments(values)
    # Long parameter lists (breakpoints, coefficients) would not fit the legend.
    if len(arguments) > _MAX_LEGEND_ARGUMENTS:
        arguments = "..."

    figure, axes = plt.subplots(figsize=(7, 4), dpi=100)
    axes.plot(x, y, color="tab:blue", linewidth=2, label=f"{function.name}({arguments})")
    for index, breakpoint in enumerate(breakpoints):
        label = "breakpoint" if index == 0 else None
        axes.axvline(breakpoint, color="tab:gray", linestyle="--", linewidth=1, label=label)
        axes.annotate(f"x={breakpoint:g}", (breakpoint, axes.get_ylim()[0]), fontsize=8, color="tab:gray")
    axes.set_xlabel(function.input.name)
    axes.set_ylabel(function.output.name)
    axes.set_title(title or f"{function.name}: {function.description}", fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend(loc="upper left")
    figure.tight_layout()

    target = Path(output)
    with atomic_output(target) as temporary:
        figure.savefig(temporary, format="png")
    plt.close(figure)
    return target
