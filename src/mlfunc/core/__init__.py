"""The pure core: business functions over numpy arrays.

Nothing in this package imports MLflow, Spark or the CLI framework, so the
functions can be tested and used without them. A test enforces this.
"""

from mlfunc.core.catalog import FUNCTIONS, get_function
from mlfunc.core.function import BusinessFunction, Column, GoldenCase
from mlfunc.core.hybrid import HYBRID, evaluate_hybrid
from mlfunc.core.parameters import Parameter, validate_parameters

__all__ = [
    "FUNCTIONS",
    "HYBRID",
    "BusinessFunction",
    "Column",
    "GoldenCase",
    "Parameter",
    "evaluate_hybrid",
    "get_function",
    "validate_parameters",
]
