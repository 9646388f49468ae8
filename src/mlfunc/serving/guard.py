"""An ASGI middleware that fixes the gaps of MLflow's scoring app without replacing it.

MLflow 3.17's scoring app (``mlflow.pyfunc.scoring_server.init``) parses,
checks and scores requests well, but:

- it writes NaN and infinite predictions as bare ``NaN`` and ``Infinity``
  tokens, which strict JSON parsers reject;
- a JSON body nested deeper than Python's recursion limit, or holding an
  integer of more than 4300 digits, makes it return 500;
- its CSV errors carry a ``stack_trace`` field with the server's traceback;
- it reads a request body of any size.

``ScoringGuard`` sits in front of that app: it checks an optional bearer
token, limits the body size and rejects empty bodies. It then rewrites
MLflow's responses: non-finite predictions become ``null``, a 500 caused by
an undecodable JSON body becomes a 400, and error bodies lose the traceback
and gain the name of the offending column where MLflow's message lacks it.
Everything else, including every payload format, is MLflow's own code.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mlfunc.serving import SCORING_PATH, TOKEN_ENV

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# Health checks stay open, so that a load balancer can probe a server that requires a token.
OPEN_PATHS = frozenset({"/ping", "/health"})
JSON_MEDIA_TYPE = "application/json"
PAYLOAD_FIELDS = "dataframe_split, dataframe_records, inputs or instances"

# Returns a message naming the input column that made MLflow reject a request, or None.
Explainer = Callable[[bytes, str], str | None]


class Rejection(Exception):
    """A request the guard rejects with an error response itself, before MLflow sees it."""

    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class BufferedResponse:
    """A complete HTTP response held in memory, so that its body can be rewritten."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes

    def header(self, name: bytes) -> bytes | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    async def send_to(self, send: Send) -> None:
        headers = [(key, value) for key, value in self.headers if key.lower() != b"content-length"]
        headers.append((b"content-length", str(len(self.body)).encode()))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})


def error_response(status: int, error_code: str, message: str, *extra_headers: tuple[bytes, bytes]) -> BufferedResponse:
    """Return an error in the JSON shape MLflow uses: ``{"error_code": ..., "message": ...}``."""
    body = json.dumps({"error_code": error_code, "message": message}).encode()
    return BufferedResponse(status, ((b"content-type", JSON_MEDIA_TYPE.encode()), *extra_headers), body)


class ScoringGuard:
    """Wrap MLflow's scoring app with a token check, a body size limit and strict JSON output."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        token: str | None = None,
        explain: Explainer | None = None,
    ) -> None:
        if max_body_bytes < 1:
            raise ValueError(f"max_body_bytes must be at least 1, got {max_body_bytes!r}")
        self._app = app
        self._max_body_bytes = max_body_bytes
        self._token = token.encode() if token else None
        self._explain = explain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        if self._token is not None and scope["path"] not in OPEN_PATHS and not _has_token(scope, self._token):
            logger.info("Rejected a request to %s with HTTP 401: missing or invalid bearer token", scope["path"])
            await _unauthorized().send_to(send)
            return

        if scope["path"] != SCORING_PATH or scope["method"] != "POST":
            await self._app(scope, receive, send)
            return

        content_type = _header(scope, b"content-type")
        try:
            body = await self._read_body(scope, receive)
            check_not_empty(body)
            response = await self._call_mlflow(scope, body, receive, content_type)
        except Rejection as rejection:
            logger.info("Rejected a request with HTTP %d: %s", rejection.status, rejection.message)
            await error_response(rejection.status, rejection.error_code, rejection.message).send_to(send)
            return

        await self._finish(response, body, content_type).send_to(send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        declared = _content_length(scope)
        if declared is not None and declared > self._max_body_bytes:
            raise self._too_large(f"{declared} bytes")

        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise self._too_large(f"more than {self._max_body_bytes} bytes")
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self, size: str) -> Rejection:
        # 413 Content Too Large is the HTTP status for this (RFC 9110, section 15.5.14).
        return Rejection(
            413,
            "REQUEST_LIMIT_EXCEEDED",
            f"request body of {size} exceeds the limit of {self._max_body_bytes} bytes: "
            "send fewer rows per request, or restart the server with a larger --max-body-bytes",
        )

    async def _call_mlflow(self, scope: Scope, body: bytes, receive: Receive, content_type: str) -> BufferedResponse:
        """Return MLflow's response, or raise Rejection when MLflow failed on an undecodable JSON body."""
        delivered = False
        start: Message | None = None
        chunks: list[bytes] = []

        async def replay() -> Message:
            # The body was read above; later calls wait for the client to disconnect.
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        try:
            await self._app(scope, replay, capture)
        except Exception:
            # MLflow returns 500 for JSON that Python's decoder cannot read
            # for reasons other than syntax. Any other error is a real one.
            rejection = json_body_problem(body, content_type)
            if rejection is None:
                raise
            raise rejection from None
        if start is None:
            raise RuntimeError("MLflow's scoring app returned without starting a response")
        return BufferedResponse(start["status"], tuple(start.get("headers", ())), b"".join(chunks))

    def _finish(self, response: BufferedResponse, body: bytes, content_type: str) -> BufferedResponse:
        if not (response.header(b"content-type") or b"").startswith(JSON_MEDIA_TYPE.encode()):
            return response
        if response.status == 200:
            return with_null_for_non_finite(response)
        if 400 <= response.status < 500:
            return self._clean_error(response, body, content_type)
        return response

    def _clean_error(self, response: BufferedResponse, body: bytes, content_type: str) -> BufferedResponse:
        try:
            payload = json.loads(response.body)
        except ValueError:
            return response
        if not isinstance(payload, dict):
            return response

        stack_trace = payload.pop("stack_trace", None)
        if stack_trace:
            logger.debug("MLflow's traceback for a rejected request:\n%s", stack_trace)
        # MLflow's message for undecodable JSON quotes the whole body.
        undecodable = json_body_problem(body, content_type)
        if undecodable is not None:
            payload["message"] = undecodable.message
        elif self._explain is not None and (explanation := self._explain(body, content_type)):
            payload["detail"] = payload.get("message")
            payload["message"] = explanation

        logger.info("Rejected a request with HTTP %d: %s", response.status, payload.get("message"))
        return replace(response, body=json.dumps(payload).encode())


def check_not_empty(body: bytes) -> None:
    """Raise Rejection for an empty or blank body, which MLflow reports as invalid JSON or CSV."""
    if not body.strip():
        raise Rejection(
            400,
            "BAD_REQUEST",
            f"request body is empty: send a JSON object with one of the fields {PAYLOAD_FIELDS}, "
            "or a CSV table with Content-Type: text/csv",
        )


def json_body_problem(body: bytes, content_type: str) -> Rejection | None:
    """Return a Rejection saying why Python's decoder cannot read a JSON body, or None if it can.

    Called only after MLflow failed on a request, so that good requests are
    parsed once, by MLflow.
    """
    if media_type(content_type) != JSON_MEDIA_TYPE:
        return None

    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        message = (
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno} (character {exc.pos})"
        )
    except UnicodeDecodeError as exc:
        message = (
            f"request body is not valid UTF-8: byte {exc.object[exc.start : exc.start + 1]!r} at position {exc.start}"
        )
    except RecursionError:
        message = "request body nests JSON arrays or objects too deeply: send rows of plain values"
    except ValueError as exc:
        # Python refuses to convert integers of more than 4300 digits (sys.set_int_max_str_digits).
        message = f"request body has a number that cannot be read: {exc}"
    else:
        return None
    return Rejection(400, "BAD_REQUEST", message)


def with_null_for_non_finite(response: BufferedResponse) -> BufferedResponse:
    """Replace bare ``NaN``, ``Infinity`` and ``-Infinity`` tokens in a JSON response with ``null``.

    MLflow serialises with Python's ``json`` module, which writes these tokens
    for non-finite floats; JSON has no such values.
    """
    if b"NaN" not in response.body and b"Infinity" not in response.body:
        return response

    payload = json.loads(response.body, parse_constant=lambda _token: None)
    return replace(response, body=json.dumps(payload, allow_nan=False).encode())


def media_type(content_type: str) -> str:
    """Return the media type of a Content-Type header without parameters, lower-cased."""
    return content_type.partition(";")[0].strip().lower()


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


def _has_token(scope: Scope, token: bytes) -> bool:
    scheme, _, credentials = _header(scope, b"authorization").encode("latin-1").partition(b" ")
    # compare_digest takes as long for a near miss as for a wrong first byte.
    return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), token)


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value.isdigit() else None


def _unauthorized() -> BufferedResponse:
    return error_response(
        401,
        "UNAUTHENTICATED",
        "missing or invalid bearer token: send the header 'Authorization: Bearer TOKEN' "
        f"with the token from ${TOKEN_ENV}",
        (b"www-authenticate", b"Bearer"),
    )
