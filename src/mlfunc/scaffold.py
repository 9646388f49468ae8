"""``mlfunc new NAME``: a starting point for a new business function, its parameter file and its tests."""

from __future__ import annotations

import keyword
from pathlib import Path

from mlfunc.errors import InputDataError

_MODULE = '''"""{name}: a business function. Replace the formula, columns and parameters with your own."""

from mlfunc.core import Column, GoldenCase, Parameter, business_function


@business_function(
    description="a base amount plus a rate times x",
    inputs=(Column("x", "double", "the value the function is applied to"),),
    outputs=(Column("y", "double", "the function's output"),),
    parameters=(
        Parameter("base", "output at x = 0"),
        Parameter("rate", "change of the output per unit of x", minimum=0.0),
    ),
    # Checked against every logged version before it is registered.
    golden_cases=lambda p: (
        GoldenCase(x=0.0, expected=p["base"]),
        GoldenCase(x=2.0, expected=p["base"] + 2.0 * p["rate"], tolerance=1e-9),
    ),
    plot_domain=(0.0, 100.0),
)
def {name}(x, *, base, rate):
    """Return base + rate * x for every row; NaN input gives NaN."""
    return base + rate * x
'''

_PARAMETERS = """# Parameters of one version of {name}: deploy it with
#   mlfunc deploy {name}:{name} --params {name}.toml --name {name}
base = 10.0
rate = 0.5
"""

_TESTS = '''"""Tests of {name} without MLflow: run them with `pytest test_{name}.py`."""

from pathlib import Path

import numpy as np
import pytest

from mlfunc.errors import ParameterError
from mlfunc.paramfiles import collect_parameters
from {name} import {name}

PARAMETERS = Path(__file__).with_name("{name}.toml")


def test_{name}_values() -> None:
    parameters = collect_parameters({name}, file=PARAMETERS)
    result = {name}.evaluate(np.array([0.0, 4.0, np.nan]), **parameters)
    assert result[0] == parameters["base"]
    assert result[1] == parameters["base"] + 4.0 * parameters["rate"]
    assert np.isnan(result[2])


def test_{name}_golden_cases_pass() -> None:
    parameters = collect_parameters({name}, file=PARAMETERS)
    for case in {name}.golden_cases(parameters):
        assert case.passes(float({name}.evaluate(np.array([case.x]), **parameters)[0])), case


def test_{name}_rejects_negative_rate() -> None:
    with pytest.raises(ParameterError, match="invalid parameter 'rate'"):
        {name}([1.0], base=1.0, rate=-1.0)
'''


def scaffold_function(name: str, folder: str | Path = ".", *, overwrite: bool = False) -> list[Path]:
    """Write ``NAME.py``, ``NAME.toml`` and ``test_NAME.py`` into ``folder`` and return their paths.

    Raises InputDataError for a name that is not a Python identifier, a
    missing folder, or a file that exists already (unless ``overwrite``).
    """
    if not name.isidentifier() or keyword.iskeyword(name) or not name.islower():
        raise InputDataError(
            f"invalid function name {name!r}: use a lower-case Python identifier such as 'shipping_cost'"
        )
    target = Path(folder)
    if not target.is_dir():
        raise InputDataError(f"folder '{target}' does not exist: create it or pass another --folder")

    files = {
        target / f"{name}.py": _MODULE,
        target / f"{name}.toml": _PARAMETERS,
        target / f"test_{name}.py": _TESTS,
    }
    existing = [path for path in files if path.exists()]
    if existing and not overwrite:
        raise InputDataError(f"file '{existing[0]}' exists already: choose another name or pass --force to replace it")

    for path, template in files.items():
        path.write_text(template.format(name=name))
    return list(files)
