"""Latency and throughput of `mlfunc serve` on 127.0.0.1, next to in-process scoring.

Deploys the hybrid function to a throwaway store, starts `mlfunc serve` as a
child process on a free loopback port and measures, on the same data:

- HTTP: p50 and p99 latency of 1-row and 1,000-row requests over one
  keep-alive connection, and requests per second at concurrency 1 and 8;
- in process, to show where the time goes: ``PyFuncModel.predict``, which is
  MLflow's schema check plus the function; MLflow's ``invocations``, which
  adds JSON parsing and output; and the whole ASGI app (mlfunc's guard,
  FastAPI and MLflow's middleware) called without a socket.

Every loop is bounded by a request count and a time limit, and the server is
stopped at the end. Run from the repository root:

    .venv/bin/python benchmarks/serve_latency.py
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.client
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

GOAL_P50_MS = 2.0
GOAL_P99_MS = 10.0
WARMUP_REQUESTS = 200
MAX_LOOP_SECONDS = 60.0
STARTUP_SECONDS = 180.0


def main() -> None:
    options = _parse_arguments()
    with tempfile.TemporaryDirectory(prefix="mlfunc-bench-") as home:
        os.environ["MLFUNC_HOME"] = home
        os.environ.pop("MLFLOW_TRACKING_URI", None)
        model_uri = _deploy()
        bodies = {1: _body(1), 1000: _body(1000)}

        print(_machine())
        print(f"server: mlfunc serve {model_uri} --workers {options.workers}; client: Python http.client, same machine")
        print()

        server, url = _start_server(model_uri, options.workers, quiet=options.quiet)
        try:
            http_rows = _measure_http(url, bodies, options)
        finally:
            _stop_server(server)

        in_process_rows = _measure_in_process(model_uri, bodies, options)

    _print_table(http_rows + in_process_rows)
    one_row = http_rows[0]
    print()
    for key, goal in (("p50", GOAL_P50_MS), ("p99", GOAL_P99_MS)):
        value = one_row[key]
        print(f"goal {key} < {goal} ms for one row over HTTP: {value:.2f} ms ({value / goal:.2f}x the goal)")


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=3000, help="timed requests per 1-row latency run")
    parser.add_argument("--large-requests", type=int, default=500, help="timed requests per 1,000-row run")
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each throughput run")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--quiet", action="store_true", help="run the server with -q: no access log")
    return parser.parse_args()


def _machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [
            line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"machine: {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {platform.system()}, "
        f"load average before the run {load}"
    )


def _deploy() -> str:
    from mlfunc.core import HYBRID
    from mlfunc.mlflow_adapter.deploy import deploy

    deploy(HYBRID, {"x0": 5.0, "y0": 2.0, "gradient": 1.0}, name="bench_model", stage="Production")
    return "models:/bench_model/Production"


def _body(rows: int) -> bytes:
    values = np.linspace(-10.0, 20.0, rows) if rows > 1 else np.array([7.5])
    return json.dumps({"dataframe_split": {"columns": ["x"], "data": values[:, None].tolist()}}).encode()


def _start_server(model_uri: str, workers: int, *, quiet: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "mlfunc", *(["-q"] if quiet else []), "serve", model_uri]
    command += ["--port", "0", "--workers", str(workers)]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert server.stdout is not None
    first = server.stdout.readline()
    if " at " not in first:
        server.kill()
        raise SystemExit(f"mlfunc serve did not start: {first!r}")
    url = first.rsplit(" at ", 1)[1].strip()

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            status, _ = _post_once(url, _body(1))
            if status == 200:
                return server, url
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"{url} did not respond within {STARTUP_SECONDS} s")


def _stop_server(server: subprocess.Popen[str]) -> None:
    server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _post_once(url: str, body: bytes) -> tuple[int, bytes]:
    connection = _connect(url)
    try:
        return _post(connection, url, body)
    finally:
        connection.close()


def _connect(url: str) -> http.client.HTTPConnection:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    connection.connect()
    # http.client writes the headers and the body separately; without TCP_NODELAY,
    # Nagle's algorithm and delayed ACKs add about 40 ms per request. curl and
    # urllib3 set it too.
    assert connection.sock is not None
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return connection


def _post(connection: http.client.HTTPConnection, url: str, body: bytes) -> tuple[int, bytes]:
    path = urllib.parse.urlsplit(url).path
    connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def _measure_http(url: str, bodies: dict[int, bytes], options: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for size, count in ((1, options.requests), (1000, options.large_requests)):
        connection = _connect(url)
        try:
            latencies = _time_calls(functools.partial(_post_ok, connection, url, bodies[size]), count)
        finally:
            connection.close()
        rows.append(_row(f"HTTP, {size} row(s)", latencies))
        for concurrency in (1, 8):
            rate = _throughput(url, bodies[size], concurrency, options.seconds)
            rows[-1][f"rps_c{concurrency}"] = rate
    return rows


def _post_ok(connection: http.client.HTTPConnection, url: str, body: bytes) -> None:
    _expect_ok(_post(connection, url, body))


def _expect_ok(response: tuple[int, bytes]) -> None:
    status, text = response
    if status != 200:
        raise SystemExit(f"request failed with HTTP {status}: {text[:200]!r}")


def _time_calls(call: Callable[[], object], count: int) -> list[float]:
    """Call ``call`` WARMUP_REQUESTS times untimed, then up to ``count`` times timed, within MAX_LOOP_SECONDS."""
    for _ in range(WARMUP_REQUESTS):
        call()
    latencies = []
    deadline = time.monotonic() + MAX_LOOP_SECONDS
    while len(latencies) < count and time.monotonic() < deadline:
        start = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - start)
    return latencies


def _throughput(url: str, body: bytes, concurrency: int, seconds: float) -> float:
    """Requests per second completed by ``concurrency`` keep-alive clients in ``seconds``."""
    counts = [0] * concurrency
    stop = threading.Event()

    def client(index: int) -> None:
        connection = _connect(url)
        try:
            while not stop.is_set():
                _expect_ok(_post(connection, url, body))
                counts[index] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(index,)) for index in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=MAX_LOOP_SECONDS)
    return sum(counts) / (time.perf_counter() - start)


def _measure_in_process(model_uri: str, bodies: dict[int, bytes], options: argparse.Namespace) -> list[dict[str, Any]]:
    import mlflow.pyfunc
    import pandas as pd
    from mlflow.pyfunc import scoring_server

    from mlfunc.serving.app import ServingSettings, create_scoring_app

    model = mlflow.pyfunc.load_model(model_uri)
    schema = model.metadata.get_input_schema()
    guarded = create_scoring_app(model, ServingSettings())
    unguarded = scoring_server.init(model)

    rows = []
    for size, count in ((1, options.requests), (1000, options.large_requests)):
        body = bodies[size]
        frame = pd.DataFrame(json.loads(body)["dataframe_split"]["data"], columns=["x"])
        rows.append(_row(f"predict, {size} row(s)", _time_calls(lambda f=frame: model.predict(f), count)))
        invocations = lambda b=body: scoring_server.invocations(b, "application/json", model, schema)  # noqa: E731
        rows.append(_row(f"MLflow invocations(), {size} row(s)", _time_calls(invocations, count)))
        rows.append(_row(f"ASGI app, no socket, {size} row(s)", _time_asgi(guarded, body, count)))
        rows.append(_row(f"  same without the guard, {size} row(s)", _time_asgi(unguarded, body, count)))
    return rows


def _time_asgi(app: Any, body: bytes, count: int) -> list[float]:
    """Time ``count`` POST /invocations calls of an ASGI app inside one event loop, without a socket."""

    async def call() -> None:
        delivered = False
        status = 0

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/invocations",
            "raw_path": b"/invocations",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 5001),
        }
        await app(scope, receive, send)
        if status != 200:
            raise SystemExit(f"ASGI call failed with HTTP {status}")

    async def run() -> list[float]:
        for _ in range(WARMUP_REQUESTS):
            await call()
        latencies = []
        deadline = time.monotonic() + MAX_LOOP_SECONDS
        while len(latencies) < count and time.monotonic() < deadline:
            start = time.perf_counter()
            await call()
            latencies.append(time.perf_counter() - start)
        return latencies

    return asyncio.run(run())


def _row(name: str, latencies: list[float]) -> dict[str, Any]:
    milliseconds = sorted(value * 1000 for value in latencies)
    return {
        "name": name,
        "n": len(milliseconds),
        "p50": statistics.median(milliseconds),
        "p99": milliseconds[min(len(milliseconds) - 1, int(round(0.99 * (len(milliseconds) - 1))))],
    }


def _print_table(rows: list[dict[str, Any]]) -> None:
    print(f"{'what':42} {'n':>6} {'p50 ms':>8} {'p99 ms':>8} {'req/s c=1':>10} {'req/s c=8':>10}")
    for row in rows:
        rates = [f"{row[key]:10.0f}" if key in row else f"{'':10}" for key in ("rps_c1", "rps_c8")]
        print(f"{row['name']:42} {row['n']:6d} {row['p50']:8.3f} {row['p99']:8.3f} {rates[0]} {rates[1]}")


if __name__ == "__main__":
    main()
