"""Logging and error output for the command line."""

from __future__ import annotations

import logging
import os
from typing import Any

import click

from mlfunc.errors import MlfuncError, ParameterError

# Libraries whose INFO lines are noise on a terminal. Their warnings still show.
_QUIET_LOGGERS = ("mlflow", "py4j", "alembic", "urllib3")
# PySpark logs every failed query as a JSON record with the JVM stack trace
# before raising it. mlfunc reports the same error as one line, so this
# logger is silenced below CRITICAL.
_SPARK_QUERY_LOGGER = "SQLQueryContextLogger"


class _Formatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.capitalize()}: {message}"
        return message


def configure_logging(level: int) -> None:
    """Send mlfunc's log records to stderr at ``level`` and quieten noisy libraries."""
    # MLflow sets its own logger's level when it is first imported, from this variable.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", logging.getLevelName(max(level, logging.WARNING)))
    # MLflow draws a tqdm bar for every artifact download once tqdm is
    # installed (mlfunc needs it for its own bar), even when stderr is not a
    # terminal. A model version is a few small files, so the bars are noise.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    handler = logging.StreamHandler()
    handler.setFormatter(_Formatter())
    package_logger = logging.getLogger("mlfunc")
    package_logger.handlers[:] = [handler]
    package_logger.setLevel(level)
    package_logger.propagate = False
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(level, logging.WARNING))
    logging.getLogger(_SPARK_QUERY_LOGGER).setLevel(logging.CRITICAL)


class MlfuncGroup(click.Group):
    """A click group that shows every MlfuncError as one ``Error: ...`` line, exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ParameterError as exc:
            if exc.fix:
                hint = f" {exc.fix}"
            elif exc.parameter:
                hint = f" Set it with --{exc.parameter.replace('_', '-')} NUMBER."
            else:
                hint = ""
            raise click.ClickException(f"{exc}.{hint}") from exc
        except MlfuncError as exc:
            raise click.ClickException(str(exc)) from exc
