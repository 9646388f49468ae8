"""Parameter files: one TOML or YAML file contains the parameters of one version.

Values can come from a file, from per-parameter options and from
``--set name=value`` overrides, in that order of precedence (later wins).
Every error names where the bad value came from, so the user knows which
file and key, or which option, to fix.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlfunc.core import BusinessFunction
from mlfunc.errors import InputDataError, ParameterError

TOML_SUFFIXES = frozenset({".toml"})
YAML_SUFFIXES = frozenset({".yaml", ".yml"})


def read_parameter_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML or YAML parameter file into a dict of parameter values.

    YAML is read with ``yaml.safe_load``, which builds only plain values and
    never runs code. Raises InputDataError for a missing file, an unknown
    suffix, a syntax error or a file whose top level is not a table.
    """
    source = Path(path)
    if not source.is_file():
        raise InputDataError(f"parameter file '{source}' not found or not a regular file")
    suffix = source.suffix.lower()
    if suffix not in TOML_SUFFIXES | YAML_SUFFIXES:
        raise InputDataError(f"parameter file '{source}' has suffix {suffix!r}: expected .toml, .yaml or .yml")

    content = _load_toml(source) if suffix in TOML_SUFFIXES else _load_yaml(source)
    if content is None:
        return {}
    if not isinstance(content, dict):
        raise InputDataError(
            f"parameter file '{source}' contains a {type(content).__name__} at its top level: "
            "expected a table of parameter names and values, such as `x0 = 5`"
        )
    return content


def _load_toml(source: Path) -> Any:
    try:
        with source.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InputDataError(f"parameter file '{source}' is not valid TOML: {exc}") from exc
    except OSError as exc:
        raise InputDataError(f"cannot read parameter file '{source}': {exc}") from exc


def _load_yaml(source: Path) -> Any:
    # PyYAML is imported here because only YAML files need it.
    import yaml

    try:
        with source.open(encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except yaml.YAMLError as exc:
        raise InputDataError(f"parameter file '{source}' is not valid YAML: {exc}") from exc
    except OSError as exc:
        raise InputDataError(f"cannot read parameter file '{source}': {exc}") from exc


def parse_assignment(text: str) -> tuple[str, Any]:
    """Parse ``name=value`` from ``--set``; the value is JSON if it parses as JSON, else text.

    So ``--set x0=5`` gives the number 5, ``--set breakpoints=[1,2]`` a list
    and ``--set outside=clamp`` the text ``"clamp"``.
    """
    name, separator, raw = text.partition("=")
    name = name.strip()
    if not separator or not name:
        raise InputDataError(f"invalid --set {text!r}: expected NAME=VALUE, such as --set x0=5")
    try:
        return name, json.loads(raw)
    except json.JSONDecodeError:
        return name, raw


@dataclass
class ParameterSources:
    """Parameter values with where each came from, merged in order of precedence."""

    values: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    file: Path | None = None

    def add(self, values: Mapping[str, Any], origin: str) -> None:
        for key, value in values.items():
            self.values[key] = value
            self.origins[key] = origin


def collect_parameters(
    function: BusinessFunction,
    *,
    file: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    assignments: Iterable[str] = (),
) -> dict[str, Any]:
    """Merge a parameter file, per-parameter options and ``--set`` assignments, then validate them.

    ``options`` maps parameter names to values given as options (None means
    not given). Returns the validated parameters. A ParameterError names the
    file and key, the option or the ``--set`` that supplied the bad value.
    """
    sources = ParameterSources(file=Path(file) if file is not None else None)
    if file is not None:
        sources.add(read_parameter_file(file), f"parameter file '{file}'")
    sources.add({key: value for key, value in (options or {}).items() if value is not None}, "option")
    for text in assignments:
        name, value = parse_assignment(text)
        sources.add({name: value}, f"--set {text}")

    try:
        return function.validate(sources.values)
    except ParameterError as exc:
        raise _locate(exc, function, sources) from exc


def _locate(error: ParameterError, function: BusinessFunction, sources: ParameterSources) -> ParameterError:
    key = error.parameter
    origin = sources.origins.get(key) if key is not None else None
    declared = next((parameter for parameter in function.parameters if parameter.name == key), None)
    if origin is not None and origin.startswith("parameter file"):
        prefix, fix = f"{origin}, key {key!r}: ", f"Fix key {key!r} in {origin}."
    elif origin is not None and origin.startswith("--set"):
        prefix, fix = f"{origin}: ", f"Fix the value of {origin}."
    elif declared is not None and declared.structured:
        prefix = f"parameter file '{sources.file}': " if sources.file else ""
        fix = f"Add key {key!r} to the --params file, or pass --set {key}=JSON."
    elif sources.file is not None and origin is None:
        prefix = f"parameter file '{sources.file}': "
        fix = f"Add key {key!r} to '{sources.file}' or set it with --{str(key).replace('_', '-')}."
    else:
        return error
    located = ParameterError(f"{prefix}{error}", function=error.function, parameter=key)
    located.fix = fix
    return located
