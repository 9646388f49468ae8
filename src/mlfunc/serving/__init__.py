"""Serving model versions over REST with MLflow's own scoring server, and a client for it.

``mlfunc.serving.server`` runs MLflow's FastAPI scoring app under uvicorn,
wrapped by the ASGI middleware in ``mlfunc.serving.guard``.
``mlfunc.serving.client`` posts files to any MLflow scoring server and needs
neither MLflow nor an HTTP library beyond the standard one, so this package
imports nothing heavy itself.
"""

from __future__ import annotations

# The environment variable that contains the bearer token: the server requires it
# with ``--require-token`` and the client sends it whenever it is set.
TOKEN_ENV = "MLFUNC_SERVING_TOKEN"

# The scoring endpoint of MLflow's scoring server.
SCORING_PATH = "/invocations"
