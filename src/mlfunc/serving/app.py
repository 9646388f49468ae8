"""The ASGI app mlfunc serves: MLflow's scoring app for one model, behind ``ScoringGuard``."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field

from mlflow.pyfunc import PyFuncModel, scoring_server
from starlette.types import ASGIApp

from mlfunc.serving import TOKEN_ENV
from mlfunc.serving.explain import explain_rejection
from mlfunc.serving.guard import DEFAULT_MAX_BODY_BYTES, ScoringGuard

# How the parent process hands the settings to uvicorn's worker processes,
# which build their app with ``create_app`` (``--workers`` above 1).
MODEL_PATH_ENV = "MLFUNC_SERVING_MODEL_PATH"
MAX_BODY_BYTES_ENV = "MLFUNC_SERVING_MAX_BODY_BYTES"
REQUIRE_TOKEN_ENV = "MLFUNC_SERVING_REQUIRE_TOKEN"
APP_FACTORY = "mlfunc.serving.app:create_app"


@dataclass(frozen=True)
class ServingSettings:
    """Limits the guard enforces in front of MLflow's app."""

    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Excluded from repr so that the token never reaches a log line or a traceback.
    token: str | None = field(default=None, repr=False)

    def environment(self, model_path: str) -> dict[str, str]:
        """Return the variables that ``create_app`` reads in a worker process.

        The token itself stays in ``TOKEN_ENV``, which workers inherit.
        """
        return {
            MODEL_PATH_ENV: model_path,
            MAX_BODY_BYTES_ENV: str(self.max_body_bytes),
            REQUIRE_TOKEN_ENV: "1" if self.token else "0",
        }


def create_scoring_app(model: PyFuncModel, settings: ServingSettings) -> ASGIApp:
    """Return MLflow's scoring app for ``model``, wrapped by ``ScoringGuard``."""
    schema = model.metadata.get_input_schema()
    return ScoringGuard(
        scoring_server.init(model),
        max_body_bytes=settings.max_body_bytes,
        token=settings.token,
        explain=functools.partial(explain_rejection, schema=schema),
    )


def create_app() -> ASGIApp:
    """Load the model and build the app in a uvicorn worker process, from the environment."""
    settings = ServingSettings(
        max_body_bytes=int(os.environ[MAX_BODY_BYTES_ENV]),
        token=os.environ[TOKEN_ENV] if os.environ.get(REQUIRE_TOKEN_ENV) == "1" else None,
    )
    model = scoring_server.load_model_with_mlflow_config(os.environ[MODEL_PATH_ENV])
    return create_scoring_app(model, settings)
