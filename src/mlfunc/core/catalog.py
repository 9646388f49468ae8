"""The business functions mlfunc can package, looked up by name."""

from __future__ import annotations

from mlfunc.core.function import BusinessFunction
from mlfunc.core.hybrid import HYBRID
from mlfunc.errors import UnknownFunctionError

FUNCTIONS: dict[str, BusinessFunction] = {HYBRID.name: HYBRID}


def get_function(name: str) -> BusinessFunction:
    """Return the business function called ``name``, or raise UnknownFunctionError."""
    try:
        return FUNCTIONS[name]
    except KeyError:
        available = ", ".join(sorted(FUNCTIONS))
        raise UnknownFunctionError(f"unknown function {name!r}: available functions are {available}") from None
