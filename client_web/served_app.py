"""`notestream serve` in a subprocess on a free port: the real server the browser tests talk to."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def notestream_command() -> list[str]:
    """The `notestream` console script of this environment (or `python -m notestream` without one)."""
    script = Path(sys.executable).with_name("notestream")
    return [str(script)] if script.exists() else [sys.executable, "-m", "notestream"]


@contextmanager
def running_server(data_dir: Path, log_path: Path, startup_timeout: float = 90.0) -> Iterator[str]:
    """Start the server, wait for /healthz, yield its base URL; stop it (SIGTERM) afterwards."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [*notestream_command(), "serve", "--port", str(port), "--data-dir", str(data_dir), "--log-format", "text"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(base, process, log_path, startup_timeout)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(base: str, process: subprocess.Popen, log_path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"notestream serve exited with {process.returncode}: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"notestream serve did not answer /healthz within {timeout:.0f} s")


def get_json(url: str, token: str | None = None) -> dict:
    """GET a JSON document from the server (with the session token as a bearer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as response:
        return json.load(response)
