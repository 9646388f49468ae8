"""Serving one model version with MLflow's scoring server in the current Python environment.

This does what ``mlflow models serve --env-manager local`` does: download the
version's artifacts to a temporary folder, load them and run MLflow's
FastAPI scoring app under uvicorn. There are three differences. The app sits
behind ``ScoringGuard``. The socket is bound before the server starts, so
``port=0`` picks a free port that can be printed. With one worker, the model
is loaded once, in this process.
"""

from __future__ import annotations

import contextlib
import copy
import ipaddress
import json
import logging
import os
import shlex
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import mlflow
import pandas as pd
import uvicorn
from mlflow.models import Model
from uvicorn.supervisors import Multiprocess

from mlfunc.errors import ServingError
from mlfunc.mlflow_adapter.registry import RegisteredVersion, registry_errors, resolve_version
from mlfunc.mlflow_adapter.store import use_store
from mlfunc.serving import SCORING_PATH, TOKEN_ENV
from mlfunc.serving.app import APP_FACTORY, ServingSettings, create_scoring_app
from mlfunc.serving.guard import DEFAULT_MAX_BODY_BYTES

logger = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5001
# Rows of the model's input example shown in the curl example.
EXAMPLE_ROWS = 2


@dataclass
class ScoringServer:
    """A bound, not yet running scoring server for one model version.

    Use it as a context manager: leaving it closes the socket and removes the
    downloaded artifacts.
    """

    model_uri: str
    version: RegisteredVersion | None
    host: str
    port: int
    workers: int
    token_required: bool
    example_payload: str
    _config: uvicorn.Config
    _socket: socket.socket
    _artifacts: tempfile.TemporaryDirectory[str]
    _worker_environment: dict[str, str]

    @property
    def url(self) -> str:
        """The scoring endpoint, for example ``http://127.0.0.1:5001/invocations``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{SCORING_PATH}"

    def describe(self) -> str:
        """Return ``version 3 of 'custom_model' (models:/custom_model/Production)`` or the URI itself."""
        if self.version is None:
            return self.model_uri
        return f"version {self.version.version} of {self.version.name!r} ({self.model_uri})"

    def curl_example(self) -> str:
        """Return a curl command that scores the model's input example; the token stays a shell variable."""
        parts = ["curl", "-s", self.url, "-H", "Content-Type: application/json"]
        command = shlex.join(parts)
        if self.token_required:
            # Double quotes, so that the shell expands the variable and the token is never printed.
            command += f' -H "Authorization: Bearer ${TOKEN_ENV}"'
        return f"{command} -d {shlex.quote(self.example_payload)}"

    def run(self) -> None:
        """Serve until interrupted (Ctrl-C or SIGTERM), then close."""
        logger.info("Serving %s at %s with %d worker(s)", self.describe(), self.url, self.workers)
        try:
            if self.workers == 1:
                uvicorn.Server(self._config).run(sockets=[self._socket])
            else:
                with _environment(self._worker_environment):
                    Multiprocess(self._config, sockets=[self._socket]).run()
        except KeyboardInterrupt:
            # uvicorn shuts down on the first SIGINT, then raises it again once done.
            pass
        finally:
            self.close()
        logger.info("Stopped serving %s", self.describe())

    def close(self) -> None:
        self._socket.close()
        self._artifacts.cleanup()

    def __enter__(self) -> ScoringServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


def prepare_server(
    model_uri: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    workers: int = 1,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    require_token: bool = False,
    log_level: int = logging.INFO,
) -> ScoringServer:
    """Load the version at ``model_uri`` and bind ``host:port``, ready to ``run``.

    A registry URI is pinned to the version it resolves to now, so every
    worker serves that version even if the stage or alias moves later.
    Raises ServingError for invalid settings or a port in use, and
    ModelNotFoundError for a URI that points nowhere.
    """
    settings = _settings(workers=workers, max_body_bytes=max_body_bytes, require_token=require_token)
    if not _is_loopback(host) and not require_token:
        logger.warning("Serving on %s without --require-token: anyone who can reach this port can call the model", host)

    # Bind first: a port in use is the cheapest failure to report.
    bound = _bind(host, port)
    artifacts = tempfile.TemporaryDirectory(prefix="mlfunc-serve-")
    try:
        use_store()
        version = resolve_version(model_uri)
        model_path = _download(model_uri, version, Path(artifacts.name))
        app: Any = APP_FACTORY
        if workers == 1:
            with registry_errors(f"loading model {model_uri!r}"):
                app = create_scoring_app(mlflow.pyfunc.load_model(model_path), settings)
        example = _example_payload(model_path)
    except BaseException:
        bound.close()
        artifacts.cleanup()
        raise

    config = uvicorn.Config(
        app,
        factory=workers > 1,
        workers=workers,
        log_config=_log_config(),
        log_level=logging.getLevelName(log_level).lower(),
        access_log=log_level <= logging.INFO,
    )
    return ScoringServer(
        model_uri=model_uri,
        version=version,
        host=host,
        port=bound.getsockname()[1],
        workers=workers,
        token_required=require_token,
        example_payload=example,
        _config=config,
        _socket=bound,
        _artifacts=artifacts,
        _worker_environment=settings.environment(model_path),
    )


def _log_config() -> dict[str, Any]:
    # uvicorn writes its access log to stdout by default. Sending it to stderr,
    # with the other log lines, leaves stdout to what mlfunc prints.
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    return config


def _settings(*, workers: int, max_body_bytes: int, require_token: bool) -> ServingSettings:
    if workers < 1:
        raise ServingError(f"invalid number of workers {workers!r}: expected 1 or more. Set it with --workers N")
    if max_body_bytes < 1:
        raise ServingError(
            f"invalid body size limit {max_body_bytes!r}: expected 1 byte or more. Set it with --max-body-bytes BYTES"
        )
    token = os.environ.get(TOKEN_ENV, "")
    if require_token and not token.strip():
        raise ServingError(f"--require-token needs a token: set the environment variable {TOKEN_ENV}")
    return ServingSettings(max_body_bytes=max_body_bytes, token=token if require_token else None)


def _download(model_uri: str, version: RegisteredVersion | None, destination: Path) -> str:
    pinned = f"models:/{version.name}/{version.version}" if version is not None else model_uri
    with registry_errors(f"downloading model {pinned!r}"):
        path = mlflow.artifacts.download_artifacts(artifact_uri=pinned, dst_path=str(destination))
    logger.info("Downloaded %s to %s", pinned, path)
    return str(path)


def _example_payload(model_path: str) -> str:
    """Return a ``dataframe_records`` request body built from the model's input example.

    Falls back to one row of 1.0 per input column for a model logged without an example.
    """
    metadata = Model.load(model_path)
    example = metadata.load_input_example(model_path)
    if isinstance(example, pd.DataFrame) and not example.empty:
        records = example.head(EXAMPLE_ROWS).to_dict(orient="records")
        return json.dumps({"dataframe_records": records}, allow_nan=False)

    schema = metadata.get_input_schema()
    if schema is not None and schema.has_input_names():
        return json.dumps({"dataframe_records": [dict.fromkeys(schema.input_names(), 1.0)]})
    return json.dumps({"inputs": [1.0]})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    # protocol is IPPROTO_TCP, and accepted sockets inherit it. Without it,
    # uvicorn's separate writes of headers and body wait about 40 ms for the
    # client's delayed ACK.
    bound = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        bound.bind((host, port))
    except OSError as exc:
        bound.close()
        raise ServingError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}. "
            "Choose another port with --port, or --port 0 for a free one"
        ) from exc
    # uvicorn's worker processes inherit the socket.
    bound.set_inheritable(True)
    return bound


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
