"""Finding business functions: the built-in ones, installed plug-ins and ``module:attribute`` references.

An installed package offers functions to mlfunc through the entry-point
group ``mlfunc.functions``, the way pytest finds its plug-ins. In the
package's ``pyproject.toml``::

    [project.entry-points."mlfunc.functions"]
    shipping = "my_package.pricing:SHIPPING"

A function in a local module is named ``module:attribute`` (for example
``pricing:shipping`` for ``shipping`` in ``./pricing.py``).
"""

from __future__ import annotations

import dataclasses
import importlib
import sys
from importlib import metadata
from pathlib import Path

from mlfunc.core.decision_table import DISCOUNT
from mlfunc.core.function import BusinessFunction
from mlfunc.core.hybrid import HYBRID
from mlfunc.core.piecewise import PIECEWISE
from mlfunc.errors import UnknownFunctionError

ENTRY_POINT_GROUP = "mlfunc.functions"

FUNCTIONS: dict[str, BusinessFunction] = {function.name: function for function in (HYBRID, PIECEWISE, DISCOUNT)}


def plugin_functions() -> dict[str, BusinessFunction]:
    """Return the functions that installed packages offer through the ``mlfunc.functions`` entry points.

    Raises UnknownFunctionError naming the entry point and package when one
    fails to load or is not a BusinessFunction.
    """
    found: dict[str, BusinessFunction] = {}
    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry_point.name in FUNCTIONS:
            continue
        found[entry_point.name] = load_reference(entry_point.value, origin=f"entry point {entry_point.name!r}")
    return found


def available_functions() -> dict[str, BusinessFunction]:
    """Return every function mlfunc can find by name: the built-in ones, then plug-ins."""
    return {**FUNCTIONS, **plugin_functions()}


def get_function(name: str, *, search_path: Path | None = None) -> BusinessFunction:
    """Return the business function called ``name``, or raise UnknownFunctionError.

    ``name`` is a built-in name, an entry-point name or ``module:attribute``.
    A module is first imported as is, then from ``search_path`` (the current
    folder by default), the way ``python -m`` finds local modules.
    """
    if name in FUNCTIONS:
        return FUNCTIONS[name]
    if ":" in name:
        return load_reference(name, search_path=search_path or Path.cwd())

    for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP, name=name):
        return load_reference(entry_point.value, origin=f"entry point {entry_point.name!r}")
    available = ", ".join(sorted(available_functions()))
    raise UnknownFunctionError(
        f"unknown function {name!r}: available functions are {available}, "
        "or name one in a module as module:attribute (run `mlfunc functions` to list them)"
    )


def load_reference(reference: str, *, search_path: Path | None = None, origin: str | None = None) -> BusinessFunction:
    """Import ``module:attribute`` and return it, remembering the reference on the function."""
    module_name, _, attribute = reference.partition(":")
    where = f" (from {origin})" if origin else ""
    if not module_name or not attribute:
        raise UnknownFunctionError(f"invalid function reference {reference!r}{where}: expected module:attribute")

    module = _import(module_name, reference, where, search_path)
    target: object = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise UnknownFunctionError(
                f"module {module_name!r} has no attribute {attribute!r}{where}: check the name after the colon"
            )
        target = getattr(target, part)
    if not isinstance(target, BusinessFunction):
        raise UnknownFunctionError(
            f"{reference!r}{where} is a {type(target).__name__}, not a BusinessFunction: "
            "declare it with mlfunc.core.business_function or BusinessFunction(...)"
        )
    return dataclasses.replace(target, reference=reference)


def _import(module_name: str, reference: str, where: str, search_path: Path | None) -> object:
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if search_path is None or exc.name != module_name.split(".")[0]:
            raise UnknownFunctionError(f"cannot import module {module_name!r} of {reference!r}{where}: {exc}") from exc
    folder = str(search_path.resolve())
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        raise UnknownFunctionError(
            f"cannot import module {module_name!r} of {reference!r}{where}: {exc}; "
            f"run mlfunc from the folder that contains it or install its package"
        ) from exc


def module_root(function: BusinessFunction) -> Path | None:
    """Return the file or package folder to ship with a logged model of ``function``.

    Returns None for a function that ships with mlfunc. For ``pkg.mod:attr``
    the whole top-level package ``pkg`` is shipped, so its imports still work.
    """
    if function.reference is None:
        return None
    top_level = function.reference.partition(":")[0].split(".")[0]
    module = sys.modules.get(top_level) or importlib.import_module(top_level)
    locations = getattr(module, "__path__", None)
    if locations:
        return Path(next(iter(locations)))
    source = getattr(module, "__file__", None)
    return Path(source) if source else None
