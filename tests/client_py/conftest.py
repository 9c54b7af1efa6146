"""Fixtures for client tests: a real JACK server (for real MIDI ports) and a real notestream server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"

# With plain `pytest` the repository root is not on sys.path, and the folders tests/notestream and
# tests/client_py (no __init__.py) would then import as empty namespace packages in place of the real
# ones. Putting the root first lets the real packages win.
REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class ServerProcess:
    """`notestream serve` running as a child process on a local port."""

    port: int
    data_dir: Path
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @classmethod
    def start(cls, data_dir: Path, port: int | None = None) -> ServerProcess:
        port = port or free_port()
        server = cls(port, data_dir, cls._spawn(data_dir, port))
        server.wait_healthy()
        return server

    @staticmethod
    def _spawn(data_dir: Path, port: int) -> subprocess.Popen:
        log = (data_dir.parent / f"{data_dir.name}-server.log").open("a")
        return subprocess.Popen(
            [sys.executable, "-m", "notestream", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--data-dir", str(data_dir), "--device", "cpu", "--log-format", "text"],
            stdout=log, stderr=subprocess.STDOUT)

    def restart(self, sig: int = signal.SIGKILL) -> None:
        """Stop it (by default as a crash) and start it again on the same port and data folder."""
        self.stop(sig)
        self.process = self._spawn(self.data_dir, self.port)
        self.wait_healthy()

    def wait_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"notestream serve exited with code {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"notestream serve did not answer /healthz within {timeout:g} s")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL simulates a crash); waits for the process to end."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def notestream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server shared by the client tests, with its own temporary data folder."""
    server = ServerProcess.start(tmp_path_factory.mktemp("server") / "data")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def jack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A dummy-driver JACK server (no sound card needed); yields the mido backend name that uses it.

    The period is 2048 frames (not a live setup's 256): tests run niced on a busy machine, where JACK
    client threads can stall for tens of milliseconds, and a longer cycle carries the messages that
    pile up meanwhile (about 500 per cycle instead of 64).
    """
    if shutil.which("jackd") is None:
        pytest.skip("jackd is not installed")
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": f"notestream-test-{os.getpid()}"}
    log = (tmp_path_factory.mktemp("jack") / "jackd.log").open("w")
    process = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", "48000", "-p", "2048"],
                               stdout=log, stderr=subprocess.STDOUT, env=env)
    os.environ["JACK_DEFAULT_SERVER"] = env["JACK_DEFAULT_SERVER"]
    try:
        _wait_for_jack(process)
        yield JACK_BACKEND
    finally:
        os.environ.pop("JACK_DEFAULT_SERVER", None)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_for_jack(process: subprocess.Popen, timeout: float = 10.0) -> None:
    import rtmidi

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jackd exited with code {process.returncode}")
        try:
            rtmidi.MidiIn(rtmidi.API_UNIX_JACK, "probe").delete()
            return
        except rtmidi.SystemError:
            time.sleep(0.1)
    raise RuntimeError("jackd did not start within 10 s")
