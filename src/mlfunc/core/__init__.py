"""The pure core: business functions over numpy arrays.

Nothing in this package imports MLflow, Spark or the CLI framework, so the
functions can be tested and used without them. A test enforces this.
"""

from mlfunc.core.catalog import FUNCTIONS, available_functions, get_function
from mlfunc.core.decision_table import DISCOUNT, DecisionTable, decision_table
from mlfunc.core.function import BusinessFunction, Column, GoldenCase, business_function
from mlfunc.core.hybrid import HYBRID, evaluate_hybrid
from mlfunc.core.parameters import Parameter, validate_parameters
from mlfunc.core.piecewise import PIECEWISE, PiecewisePolynomial, evaluate_piecewise

__all__ = [
    "DISCOUNT",
    "DecisionTable",
    "decision_table",
    "FUNCTIONS",
    "HYBRID",
    "PIECEWISE",
    "BusinessFunction",
    "Column",
    "GoldenCase",
    "Parameter",
    "PiecewisePolynomial",
    "available_functions",
    "business_function",
    "evaluate_hybrid",
    "evaluate_piecewise",
    "get_function",
    "validate_parameters",
]
