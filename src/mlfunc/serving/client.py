"""Posting a table to an MLflow scoring server and reading the predictions back.

Works with any MLflow scoring server: ``mlfunc serve``, ``mlflow models
serve`` or a hosted endpoint that takes a bearer token. Uses only the
standard library's HTTP client, so that it imports no MLflow.
"""

from __future__ import annotations

import json
import logging
import math
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mlfunc.errors import InputDataError, ServingError
from mlfunc.serving import SCORING_PATH, TOKEN_ENV
from mlfunc.tables import numeric_column, read_table, write_table

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 60.0
# Characters of an error response quoted in a message.
MAX_QUOTED_ERROR = 500


@dataclass(frozen=True)
class InvokeResult:
    """Summary of what ``invoke_file`` sent and received."""

    rows: int
    null_predictions: int
    predictions: pd.DataFrame
    output: Path | None

    def predictions_json(self) -> str:
        """Return the predictions as ``{"predictions": [{column: value}, ...]}``, missing values as null."""
        records = [
            {str(name): _json_value(value) for name, value in zip(self.predictions.columns, row, strict=True)}
            for row in self.predictions.itertuples(index=False, name=None)
        ]
        return json.dumps({"predictions": records}, allow_nan=False)


def scoring_url(url: str) -> str:
    """Return ``url`` with the ``/invocations`` path added when it names only the server.

    Raises ServingError for a URL that is not http or https.
    """
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ServingError(f"invalid server URL {url!r}: expected http://HOST:PORT or http://HOST:PORT{SCORING_PATH}")
    if parts.path.rstrip("/") in ("", "/"):
        return urllib.parse.urlunsplit(parts._replace(path=SCORING_PATH))
    return url


def payload_for(frame: pd.DataFrame, column: str | None) -> bytes:
    """Return the JSON request body for ``frame``, with missing values as ``null``.

    With ``column``, only that column is sent, as an ``inputs`` list, which
    MLflow's scoring server feeds to a model's single input column whatever
    its name. Without it, the whole table is sent in ``dataframe_split`` form.
    """
    if column is not None:
        values = numeric_column(frame, column, source="the input file")
        return json.dumps({"inputs": [_json_value(value) for value in values.tolist()]}, allow_nan=False).encode()

    rows = [[_json_value(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    split = {"columns": [str(name) for name in frame.columns], "data": rows}
    return json.dumps({"dataframe_split": split}, allow_nan=False).encode()


def _json_value(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        # numpy scalars, which the json module cannot write.
        return _json_value(value.item())
    return value


def post(
    url: str, body: bytes, *, content_type: str = "application/json", timeout: float = DEFAULT_TIMEOUT_SECONDS
) -> Any:
    """POST ``body`` to ``url`` and return the decoded JSON response.

    Sends ``Authorization: Bearer $MLFUNC_SERVING_TOKEN`` when that variable
    is set. Raises ServingError, with the server's message, for a refused
    connection, a timeout or an HTTP error status.
    """
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": content_type})
    token = os.environ.get(TOKEN_ENV, "").strip()
    if token:
        request.add_unredirected_header("Authorization", f"Bearer {token}")

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        raise ServingError(_http_error_message(url, exc, token_sent=bool(token))) from exc
    except (urllib.error.URLError, ConnectionError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServingError(
            f"cannot reach the scoring server at {url}: {reason}. Start one with: mlfunc serve MODEL_URI"
        ) from exc
    except TimeoutError as exc:
        raise ServingError(f"the scoring server at {url} did not respond within {timeout:g} seconds") from exc

    try:
        return json.loads(text)
    except ValueError as exc:
        raise ServingError(f"the scoring server at {url} returned a response that is not JSON: {text[:100]!r}") from exc


def _http_error_message(url: str, error: urllib.error.HTTPError, *, token_sent: bool) -> str:
    text = error.read().decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
        detail = payload.get("message", text) if isinstance(payload, dict) else text
    except ValueError:
        detail = text
    detail = str(detail).strip()[:MAX_QUOTED_ERROR] or error.reason
    message = f"the scoring server at {url} rejected the request with HTTP {error.code}: {detail}"
    if error.code == 401 and not token_sent:
        message += f". Set the environment variable {TOKEN_ENV} to the server's token"
    return message


def predictions_frame(response: Any, rows: int) -> pd.DataFrame:
    """Return the ``predictions`` of a scoring response as a DataFrame, one row per input row.

    Raises ServingError when the response has no predictions or a different number of rows.
    """
    if not isinstance(response, dict) or not isinstance(response.get("predictions"), list):
        keys = sorted(response) if isinstance(response, dict) else type(response).__name__
        raise ServingError(f"the scoring response has no 'predictions' list: found {keys}")

    predictions = response["predictions"]
    if len(predictions) != rows:
        raise ServingError(f"the scoring response has {len(predictions)} predictions for {rows} input rows")
    if predictions and all(isinstance(item, dict) for item in predictions):
        return pd.DataFrame.from_records(predictions)
    return pd.DataFrame({"prediction": predictions})


def invoke_file(
    url: str,
    input_path: str | os.PathLike[str],
    *,
    column: str | None = None,
    output_path: str | os.PathLike[str] | None = None,
    sep: str | None = None,
    output_column: str = "prediction",
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
) -> InvokeResult:
    """Score a CSV or Parquet file on the server at ``url``; write the file with its predictions if asked.

    The output keeps every input column and adds the predictions: one column
    named ``output_column`` for a model with one output, else one column per
    output. It uses the input's CSV delimiter (or Parquet, by suffix), and
    nothing is written if any step fails.
    """
    endpoint = scoring_url(url)
    frame, used_sep = read_table(input_path, sep=sep)
    body = payload_for(frame, column)

    logger.info("Posting %d rows (%d bytes) to %s", len(frame), len(body), endpoint)
    predictions = predictions_frame(post(endpoint, body, timeout=timeout), len(frame))
    if len(predictions.columns) == 1:
        predictions.columns = [output_column]

    if output_path is not None:
        clashes = [str(name) for name in predictions.columns if name in frame.columns]
        if clashes:
            raise InputDataError(
                f"output column(s) {', '.join(map(repr, clashes))} already exist in input file '{input_path}': "
                "choose another name with --output-column"
            )
        result = pd.concat([frame, predictions.set_axis(frame.index)], axis="columns")
        write_table(result, output_path, sep=used_sep)
        logger.info("Wrote %d rows with predictions to %s", len(result), output_path)

    return InvokeResult(
        rows=len(frame),
        null_predictions=int(predictions.isna().any(axis="columns").sum()),
        predictions=predictions,
        output=Path(output_path) if output_path is not None else None,
    )
