"""The business function and parameters of a logged model, read from its MLmodel file.

The SQL paths use this to compile a version to SQL, or to evaluate it in a
Python function without MLflow's model wrapper.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

from mlflow.models import get_model_info

from mlfunc import __version__
from mlfunc.core import BusinessFunction, get_function
from mlfunc.core.sql import Dialect, compile_sql, create_function_statement
from mlfunc.errors import CompileError, InputDataError, MlfuncError
from mlfunc.mlflow_adapter.model import EXPLAIN_KEY, FUNCTION_KEY, decode_config
from mlfunc.mlflow_adapter.registry import RegisteredVersion, registry_errors, resolve_version
from mlfunc.mlflow_adapter.store import use_store

logger = logging.getLogger(__name__)

# The key of the pyfunc flavor in an MLmodel file under which MLflow keeps
# the model_config a models-from-code version was logged with.
_CONFIG_KEY = "config"


@dataclass(frozen=True)
class ModelDefinition:
    """The business function and validated parameters of one logged model.

    ``pinned_uri`` names the exact version (``models:/name/3``) when the URI
    was a stage or alias, so later reads cannot see a newer promotion.
    """

    model_uri: str
    pinned_uri: str
    version: RegisteredVersion | None
    run_id: str | None
    function: BusinessFunction
    parameters: dict[str, Any]
    explain: bool

    def describe(self) -> str:
        """Name the version and run this definition was read from, for log lines and comments."""
        if self.version is not None:
            # Quoted as written, without repr's escapes, for SQL comments.
            origin = f"version {self.version.version} of '{self.version.name}'"
        else:
            origin = self.model_uri
        run = f", run {self.run_id}" if self.run_id else ""
        return f"{origin} ({self.model_uri}{run})"


# The three paths of a model run as a SQL function: a native SQL
# expression, mlfunc's Python function on Arrow batches, or MLflow's own
# model wrapper for models whose function mlfunc cannot read.
SqlPath = Literal["compiled", "python", "mlflow"]

_PATH_NAMES = {
    "compiled": "a compiled SQL expression",
    "python": "a Python function on Arrow batches",
    "mlflow": "MLflow's pyfunc model",
}


@dataclass(frozen=True)
class SqlFunction:
    """A model registered as a SQL function in an engine, the path it runs on and why."""

    name: str
    model_uri: str
    version: RegisteredVersion | None
    path: SqlPath
    reason: str

    def describe(self) -> str:
        """Say how the function runs, for log lines, the CLI and the demo."""
        text = f"{self.name} runs {self.model_uri} as {_PATH_NAMES[self.path]}"
        return f"{text} ({self.reason})" if self.reason else text


def check_function_name(function_name: str) -> None:
    """Raise InputDataError unless ``function_name`` is a plain SQL function name."""
    if not function_name.isidentifier():
        raise InputDataError(f"invalid SQL function name {function_name!r}: use letters, digits and underscores")


def registered(function: SqlFunction) -> SqlFunction:
    """Log how a newly registered SQL function runs, and return it."""
    logger.info("SQL function %s", function.describe())
    return function


def read_definition(model_uri: str) -> ModelDefinition:
    """Return the function and parameters of ``model_uri``, without loading the model.

    Raises CompileError for a model that mlfunc did not log from code (such
    as a pickled ``HybridFunction`` of the original demo): it has no
    definition to read, but still runs through MLflow.
    """
    use_store()
    version = resolve_version(model_uri)
    pinned = f"models:/{version.name}/{version.version}" if version is not None else model_uri
    with registry_errors(f"reading model {model_uri!r}"):
        info = get_model_info(pinned)

    flavor = info.flavors.get("python_function", {})
    config = dict(flavor.get(_CONFIG_KEY) or {})
    if FUNCTION_KEY not in config:
        raise CompileError(
            f"model {model_uri!r} was not logged by mlfunc from source code, so mlfunc cannot read its function"
        )
    explain = bool(config.pop(EXPLAIN_KEY, False))
    try:
        function = get_function(str(config.pop(FUNCTION_KEY)))
        parameters = function.validate(decode_config(function, config))
    except MlfuncError as exc:
        raise CompileError(f"cannot read the function of model {model_uri!r}: {exc}") from exc
    return ModelDefinition(model_uri, pinned, version, info.run_id, function, parameters, explain)


def compile_model(
    definition: ModelDefinition, dialect: Dialect, *, function_name: str | None = None, temporary: bool = True
) -> str:
    """Return ``definition`` as a SQL expression, or as a CREATE statement when ``function_name`` is given.

    Raises CompileError when the function has no SQL translation or the
    version adds an explanation column, which only the Python path computes.
    """
    if definition.explain:
        raise CompileError(
            f"model {definition.model_uri!r} adds an explanation column, which only the Python path computes"
        )
    if function_name is None:
        return compile_sql(definition.function, definition.parameters, dialect).text
    comment = f"compiled by mlfunc {__version__} from {definition.describe()}"
    return create_function_statement(
        definition.function, definition.parameters, dialect, function_name, temporary=temporary, comment=comment
    )


def compiled_statement(
    definition: ModelDefinition, dialect: Dialect, function_name: str, *, python_udf: bool
) -> tuple[str | None, str]:
    """Return the statement that creates the compiled SQL function, or None and why the Python path runs instead."""
    if python_udf:
        return None, "--python-udf given"
    try:
        return compile_model(definition, dialect, function_name=function_name), ""
    except CompileError as exc:
        return None, str(exc)
