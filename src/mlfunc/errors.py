"""The exceptions mlfunc raises.

Every error that a user can fix derives from :class:`MlfuncError`, so the CLI
prints it as one ``Error: ...`` line instead of a traceback::

    MlfuncError
    ├── ParameterError          invalid or missing parameter value
    ├── UnknownFunctionError    no business function with that name
    ├── InputDataError          unreadable file, missing or non-numeric column
    ├── RegistryError           the MLflow registry rejected or lacks something
    │   ├── ModelNotFoundError      name, version, stage or alias not found
    │   ├── RegistryUnavailableError  tracking server or database unreachable
    │   └── RollbackError           no earlier Production version to return to
    ├── ValidationError         a logged version failed its golden cases
    ├── CompileError            a function has no SQL translation
    ├── SparkError              a Spark query or session failed
    ├── DuckDBError             a DuckDB query failed
    ├── ServingError            a scoring server cannot start, or rejected a request
    └── ConfigurationError      invalid setting, or a missing optional package

Errors from MLflow and Spark are translated into these at the adapter
boundary, with the original exception chained as ``__cause__``.
This module imports nothing but the standard library, so the pure core can
use it.
"""

from __future__ import annotations


class MlfuncError(Exception):
    """Base class of every error a user can act on."""


class ParameterError(MlfuncError, ValueError):
    """A business function parameter is missing, unknown or out of range."""

    def __init__(self, message: str, *, function: str, parameter: str | None) -> None:
        super().__init__(message)
        self.function = function
        self.parameter = parameter
        # How to fix it, in the words of the interface that supplied the
        # value (a file key, an option), when the raiser knows it.
        self.fix: str | None = None


class UnknownFunctionError(MlfuncError, LookupError):
    """No business function is registered under the requested name."""


class InputDataError(MlfuncError, ValueError):
    """An input file or DataFrame cannot be used as model input."""


class RegistryError(MlfuncError):
    """The MLflow tracking server or model registry rejected a request."""


class ModelNotFoundError(RegistryError, LookupError):
    """A registered model, version, stage or alias does not exist."""


class RegistryUnavailableError(RegistryError):
    """The tracking server or its database cannot be reached."""


class RollbackError(RegistryError):
    """A rollback found no earlier Production version to return to."""


class ValidationError(MlfuncError):
    """A logged model version gave the wrong output for one or more golden cases."""


class CompileError(MlfuncError):
    """A function cannot be compiled to SQL; the Python path runs it instead."""


class SparkError(MlfuncError):
    """A Spark session could not start or a Spark SQL query failed."""


class DuckDBError(MlfuncError):
    """DuckDB could not read a table or run a query."""


class ServingError(MlfuncError):
    """A scoring server cannot start, cannot be reached or rejected a request."""


class ConfigurationError(MlfuncError):
    """An environment setting is invalid, or the feature it selects needs a package that is not installed."""
