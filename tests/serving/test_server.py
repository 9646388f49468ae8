"""`mlfunc serve`: MLflow's scoring server behind mlfunc's guard, driven over HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import math
import os
import socket
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from mlfunc.cli import main
from mlfunc.core import HYBRID
from mlfunc.mlflow_adapter.deploy import Deployment
from mlfunc.serving import TOKEN_ENV
from mlfunc.serving.server import _bind
from tests.conftest import HYBRID_PARAMETERS
from tests.serving.conftest import MAX_BODY_BYTES, ServerProcess, post, start_server, strict_json

VALUES = [-10.0, 5.0, 7.5, None]
EXPECTED = [2.0, 2.0, 4.5, None]

FORMATS = {
    "dataframe_split": json.dumps({"dataframe_split": {"columns": ["x"], "data": [[value] for value in VALUES]}}),
    "dataframe_records": json.dumps({"dataframe_records": [{"x": value} for value in VALUES]}),
    "inputs list": json.dumps({"inputs": VALUES}),
    "inputs columns": json.dumps({"inputs": {"x": VALUES}}),
    "instances": json.dumps({"instances": VALUES}),
}


def predictions(text: str) -> list[float | None]:
    return [row["y"] for row in strict_json(text)["predictions"]]


@pytest.mark.slow
@pytest.mark.parametrize("body", FORMATS.values(), ids=FORMATS.keys())
def test_serve_json_formats(server: ServerProcess, body: str) -> None:
    status, text = post(server.url, body)
    assert status == 200, text
    assert predictions(text) == EXPECTED


@pytest.mark.slow
def test_serve_csv_format(server: ServerProcess) -> None:
    status, text = post(server.url, "x\n-10\n5\n7.5\n\n", content_type="text/csv")
    assert status == 200, text
    assert predictions(text) == EXPECTED[:3]

    # pandas skips blank lines, so a missing value needs a second column, or NaN.
    status, text = post(server.url, "x,id\n-10,1\n,2\nNaN,3\n7.5,4\n", content_type="text/csv; charset=utf-8")
    assert status == 200, text
    assert predictions(text) == [2.0, None, None, 4.5]


@pytest.mark.slow
@pytest.mark.parametrize(("token", "expected"), [("NaN", None), ("Infinity", None), ("-Infinity", 2.0)])
def test_serve_non_finite_input(server: ServerProcess, token: str, expected: float | None) -> None:
    status, text = post(server.url, f'{{"dataframe_split": {{"columns": ["x"], "data": [[{token}], [7]]}}}}')
    assert status == 200, text
    assert "NaN" not in text
    assert "Infinity" not in text
    assert predictions(text) == [expected, 4.0]


@pytest.mark.slow
def test_serve_thousand_rows(server: ServerProcess) -> None:
    values = np.linspace(-20.0, 20.0, 1000)
    status, text = post(
        server.url, json.dumps({"dataframe_split": {"columns": ["x"], "data": values[:, None].tolist()}})
    )
    assert status == 200, text
    assert predictions(text) == HYBRID(values, **HYBRID_PARAMETERS).tolist()


@pytest.mark.slow
@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=False, width=64), min_size=1, max_size=50))
def test_serve_matches_pandas_engine(server: ServerProcess, values: list[float]) -> None:
    body = json.dumps({"inputs": [None if math.isnan(value) else value for value in values]})
    status, text = post(server.url, body)
    assert status == 200, text
    expected = HYBRID(np.array(values), **HYBRID_PARAMETERS)
    # JSON has no NaN or infinity, so both come back as null.
    assert predictions(text) == [value if math.isfinite(value) else None for value in expected.tolist()]


# Deeper than Python's recursion limit, yet under the fixture server's body limit.
DEEP = '{"inputs": ' + "[" * 30_000 + "]" * 30_000 + "}"
BAD_REQUESTS = {
    "missing column": ('{"dataframe_records": [{"y": 1.0}]}', "application/json", 400, ["'x'", "'y'", "missing"]),
    "missing column csv": ("y\n1.0\n", "text/csv", 400, ["'x'", "'y'", "missing"]),
    "string records": ('{"dataframe_records": [{"x": "abc"}]}', "application/json", 400, ["'x'", "'abc'"]),
    "string split": (
        '{"dataframe_split": {"columns": ["x"], "data": [[1], ["abc"]]}}',
        "application/json",
        400,
        ["'x'", "'abc'", "row 1"],
    ),
    "string inputs": ('{"inputs": [1.0, "abc"]}', "application/json", 400, ["'x'", "'abc'", "row 1"]),
    "string csv": ("x\n1.0\nabc\n", "text/csv", 400, ["'x'", "'abc'", "row 1"]),
    "invalid json": ('{"dataframe_records": [', "application/json", 400, ["not valid JSON", "line 1 column 24"]),
    "json list": ("[1, 2]", "application/json", 400, ["dataframe_split", "list"]),
    "unknown field": ('{"rows": [1.0]}', "application/json", 400, ["exactly one of the fields", "'rows'"]),
    "two fields": (
        '{"inputs": [1.0], "dataframe_records": [{"x": 1.0}]}',
        "application/json",
        400,
        ["exactly one of the fields", "'inputs', 'dataframe_records'"],
    ),
    "split not a table": ('{"dataframe_split": {"columns": ["x"], "data": 5}}', "application/json", 400, ["split"]),
    "empty json": ("", "application/json", 400, ["request body is empty"]),
    "blank json": (" \n", "application/json", 400, ["request body is empty"]),
    "empty csv": ("", "text/csv", 400, ["request body is empty"]),
    "too deep": (DEEP, "application/json", 400, ["too deeply"]),
    "huge integer": ('{"inputs": [' + "9" * 5000 + "]}", "application/json", 400, ["number", "4300 digits"]),
    "not utf-8": (b'{"inputs": [\xff]}', "application/json", 400, ["UTF-8", "position 12"]),
    "too large": ('{"inputs": [' + "1," * MAX_BODY_BYTES + "1]}", "application/json", 413, ["--max-body-bytes"]),
    "unsupported type": ('{"inputs": [1.0]}', "text/plain", 415, ["text/plain"]),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("body", "content_type", "status", "fragments"), BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys()
)
def test_serve_bad_request(
    server: ServerProcess, body: str | bytes, content_type: str, status: int, fragments: list[str]
) -> None:
    got, text = post(server.url, body, content_type=content_type)
    assert got == status, text
    assert "Traceback" not in text
    assert "stack_trace" not in text
    message = strict_json(text)["message"] if text.startswith("{") else text
    for fragment in fragments:
        assert fragment in message


@pytest.mark.slow
def test_serve_chunked_body_over_limit(server: ServerProcess) -> None:
    # No Content-Length: the guard has to count the bytes as they arrive.
    chunks = (b"1," * 1024 for _ in range(MAX_BODY_BYTES // 1024))
    request = urllib.request.Request(
        server.url, data=chunks, method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    assert caught.value.code == 413
    assert "--max-body-bytes" in strict_json(caught.value.read().decode())["message"]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["dataframe_split", "dataframe_records", "inputs", "instances", "params"]),
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
        max_leaves=12,
    ),
)
def test_serve_never_returns_500(server: ServerProcess, field: str, value: object) -> None:
    status, text = post(server.url, json.dumps({field: value}))
    assert status < 500, text
    assert "Traceback" not in text
    if status == 200:
        strict_json(text)


@pytest.mark.slow
def test_serve_health_and_version(server: ServerProcess) -> None:
    with urllib.request.urlopen(f"{server.base_url}/health", timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{server.base_url}/version", timeout=10) as response:
        assert response.read().decode().count(".") == 2


@pytest.mark.slow
def test_serve_banner(server: ServerProcess, deployed: Deployment) -> None:
    first, try_it, curl, last = server.banner
    assert first.startswith(f"Serving version {deployed.version} of 'shared_model' (models:/shared_model/Production)")
    assert server.url.startswith("http://127.0.0.1:")
    assert try_it == "Try it:"
    assert curl.strip().startswith(f"curl -s {server.url} -H 'Content-Type: application/json' -d '")
    assert "Authorization" not in curl
    assert last == "Press Ctrl-C to stop."


@pytest.mark.slow
def test_serve_curl_example_works(server: ServerProcess) -> None:
    body = server.banner[2].split(" -d ", 1)[1].strip("'")
    status, text = post(server.url, body)
    assert status == 200, text
    assert len(predictions(text)) == 2


@pytest.mark.slow
def test_serve_token_and_workers(deployed: Deployment, tmp_path: Path) -> None:
    token = "test-token-7f3a9c"
    server = start_server(
        ["models:/shared_model@champion", "--workers", "2", "--require-token"],
        tmp_path / "server.log",
        env={**os.environ, TOKEN_ENV: token},
    )
    try:
        assert '-H "Authorization: Bearer $MLFUNC_SERVING_TOKEN"' in server.banner[2]
        body = FORMATS["dataframe_records"]

        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {token}"}):
            status, text = post(server.url, body, headers=headers)
            assert status == 401, text
            assert TOKEN_ENV in strict_json(text)["message"]
            assert token not in text

        # Several requests, so that both workers are likely to handle one.
        for _ in range(6):
            status, text = post(server.url, body, headers={"Authorization": f"Bearer {token}"})
            assert status == 200, text
            assert predictions(text) == EXPECTED
        with urllib.request.urlopen(f"{server.base_url}/ping", timeout=10) as response:
            assert response.status == 200
    finally:
        code, rest, log = server.stop()

    assert code == 0, log
    assert rest.startswith("Stopped serving version")
    assert "Traceback" not in log
    assert token not in "\n".join(server.banner) + rest + log


def test_serve_command_port_in_use(deployed: Deployment) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["serve", "models:/shared_model/Production", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith(f"Error: cannot listen on 127.0.0.1:{port}")
    assert "--port 0" in result.stderr


def test_serve_command_token_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    result = CliRunner().invoke(main, ["serve", "models:/shared_model/Production", "--require-token"])
    assert result.exit_code == 1, result.output
    assert f"set the environment variable {TOKEN_ENV}" in result.stderr


def test_serve_command_unknown_model(deployed: Deployment) -> None:
    result = CliRunner().invoke(main, ["serve", "models:/shared_model/Staging", "--port", "0"])
    assert result.exit_code == 1, result.output
    assert "has no stage 'Staging'" in result.stderr


def test_bind_socket_is_tcp() -> None:
    # asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets; without it every
    # keep-alive response waits about 40 ms for a delayed ACK.
    bound = _bind("127.0.0.1", 0)
    try:
        assert bound.proto == socket.IPPROTO_TCP
        assert bound.getsockname()[0] == "127.0.0.1"
    finally:
        bound.close()
