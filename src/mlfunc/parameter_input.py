"""Reading business function parameters from text: notebook widgets, job parameters and parameter files.

Widgets and job parameters arrive as strings, and a parameter file is JSON or
TOML. Both end in the function's own validation, so an invalid value gets
the same message as on the command line or in the Python API.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path

from mlfunc.core import BusinessFunction
from mlfunc.errors import ParameterError

# The key a parameter file may use to say which function it is written for;
# no parameter may take this name (see core.parameters.RESERVED_NAMES).
FUNCTION_KEY = "function"


def parameters_from_text(function: BusinessFunction, texts: Mapping[str, str]) -> dict[str, float]:
    """Convert parameter strings, such as widget values, to validated parameters of ``function``.

    An empty or blank string counts as a missing value. Raises ParameterError
    naming the parameter for a missing, unknown or non-numeric value.
    """
    values: dict[str, object] = {}
    for name, text in texts.items():
        stripped = text.strip()
        if stripped:
            values[name] = _to_number(stripped)
    return function.validate(values)


def _to_number(text: str) -> object:
    # Text that is not a number goes to validation as it is, so that the
    # message names the parameter and shows the value received.
    try:
        return float(text)
    except ValueError:
        return text


def read_parameter_file(function: BusinessFunction, path: str | Path) -> dict[str, float]:
    """Read and validate the parameters of ``function`` from a JSON or TOML file.

    The file contains parameter names and numbers, such as
    ``{"x0": 5, "y0": 2, "gradient": 1}`` or ``x0 = 5`` lines. An optional
    ``function`` entry must name ``function``, so a file written for another
    function is rejected.
    """
    source = Path(path)
    if not source.is_file():
        raise _file_error(function, f"parameter file '{source}' not found or not a regular file")

    document = _parse(function, source)
    if not isinstance(document, dict):
        raise _file_error(
            function,
            f"invalid parameter file '{source}': expected parameter names and numbers, got a {type(document).__name__}",
        )

    values = dict(document)
    named = values.pop(FUNCTION_KEY, function.name)
    if named != function.name:
        raise _file_error(function, f"parameter file '{source}' is for function {named!r}, not {function.name!r}")
    return function.validate(values)


def _parse(function: BusinessFunction, source: Path) -> object:
    suffix = source.suffix.lower()
    if suffix not in (".json", ".toml"):
        raise _file_error(function, f"invalid parameter file '{source}': expected a .json or .toml file")

    try:
        text = source.read_text(encoding="utf-8")
        return json.loads(text) if suffix == ".json" else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _file_error(function, f"invalid parameter file '{source}': {exc}") from exc


def _file_error(function: BusinessFunction, message: str) -> ParameterError:
    return ParameterError(message, function=function.name, parameter=None)
