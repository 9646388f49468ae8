"""A real `mlfunc serve` process on a free loopback port, shared by the serving tests."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mlfunc.mlflow_adapter.deploy import Deployment

STARTUP_SECONDS = 120.0
STOP_SECONDS = 30.0
# The fixture server's body limit, small enough to exceed cheaply in a test.
MAX_BODY_BYTES = 65536


@dataclass
class ServerProcess:
    """A running `mlfunc serve` process and what it printed on startup."""

    process: subprocess.Popen[str]
    url: str
    banner: list[str]
    log: Path

    @property
    def base_url(self) -> str:
        return self.url.removesuffix("/invocations")

    def stop(self) -> tuple[int, str, str]:
        """Send SIGINT, as Ctrl-C does, and return the exit code, the rest of stdout and the log."""
        self.process.send_signal(signal.SIGINT)
        try:
            rest, _ = self.process.communicate(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            rest, _ = self.process.communicate()
        return self.process.returncode, rest or "", self.log.read_text()


def start_server(args: list[str], log: Path, env: Mapping[str, str] | None = None) -> ServerProcess:
    """Start `mlfunc serve ARGS --port 0`, wait for its banner and for /ping to answer 200."""
    handle = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlfunc", "serve", *args, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=handle,
        text=True,
        env=dict(env) if env is not None else None,
    )
    handle.close()
    try:
        banner = _read_banner(process, log)
        url = banner[0].rsplit(" at ", 1)[1]
        server = ServerProcess(process, url, banner, log)
        _wait_for_ping(server)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return server


def _read_banner(process: subprocess.Popen[str], log: Path) -> list[str]:
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            lines.put(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                return
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    banner: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while not banner or not banner[-1].startswith("Press Ctrl-C"):
        try:
            line = lines.get(timeout=max(deadline - time.monotonic(), 0.1))
        except queue.Empty:
            raise AssertionError(f"mlfunc serve printed no banner in {STARTUP_SECONDS} s:\n{log.read_text()}") from None
        if line == "" and process.poll() is not None:
            raise AssertionError(f"mlfunc serve exited with {process.returncode}:\n{log.read_text()}")
        banner.append(line)
    return banner


def _wait_for_ping(server: ServerProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{server.base_url}/ping", timeout=5) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise AssertionError(f"{server.base_url}/ping did not answer in {STARTUP_SECONDS} s:\n{server.log.read_text()}")


def post(
    url: str, body: bytes | str, content_type: str = "application/json", headers: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """POST a raw body and return the status and the response text, whatever the status."""
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": content_type, **(headers or {})}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def strict_json(text: str) -> Any:
    """Parse JSON as a strict parser does: bare NaN and Infinity tokens are errors."""

    def reject(token: str) -> None:
        raise ValueError(f"non-standard JSON token {token!r} in {text[:200]!r}")

    return json.loads(text, parse_constant=reject)


@pytest.fixture(scope="session")
def server(deployed: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`mlfunc serve models:/shared_model/Production`, one worker, no token, a 64 KiB body limit."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    started = start_server(["models:/shared_model/Production", "--max-body-bytes", str(MAX_BODY_BYTES)], log)
    yield started
    code, _, text = started.stop()
    assert code == 0, text
    assert "Traceback" not in text
