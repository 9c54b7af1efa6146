"""`notestream serve` as a child process on a local port, started and stopped from Python: for tests,
benchmarks and anything else that needs a real server it does not share a process with."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on right now (on 127.0.0.1)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServerProcess:
    """A running `python -m notestream serve --host 127.0.0.1 --port PORT --data-dir DIR ARGS...`.

    Output goes to `log` (a file path; None: discarded); `env` replaces the child's environment.
    """

    port: int
    data_dir: Path
    args: tuple[str, ...] = ()
    env: dict[str, str] | None = None
    log: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def start(cls, data_dir: Path, *args: str, port: int | None = None, env: dict[str, str] | None = None,
              log: Path | None = None, timeout: float = 180.0) -> ServerProcess:
        """Start it and return once /healthz answers (model loading is slow on a busy 2-core machine)."""
        server = cls(port or free_port(), Path(data_dir), tuple(args), env, log)
        server.spawn()
        server.wait_healthy(timeout)
        return server

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        command = [sys.executable, "-m", "notestream", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                   "--data-dir", str(self.data_dir), *self.args]
        output = open(self.log, "a") if self.log else subprocess.DEVNULL  # noqa: SIM115 — the child keeps it
        try:
            self.process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, env=self.env)
        finally:
            if self.log:
                output.close()

    def wait_healthy(self, timeout: float = 180.0) -> None:
        """Wait until /healthz says ok; raise RuntimeError (with the log's tail) if it exits or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"notestream serve exited with code {self.process.returncode}{self._log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.http}/healthz", timeout=2) as response:
                    if json.load(response).get("status") == "ok":
                        return
            except OSError:
                time.sleep(0.2)
        self.stop(signal.SIGKILL)
        raise RuntimeError(f"notestream serve did not answer /healthz within {timeout:g} s{self._log_tail()}")

    def restart(self, sig: int = signal.SIGKILL, timeout: float = 180.0) -> None:
        """Stop it (by default as a crash) and start it again on the same port and data folder."""
        self.stop(sig)
        self.spawn()
        self.wait_healthy(timeout)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> None:
        """Send `sig` (SIGKILL simulates a crash) and wait for the process to end (killing it after `timeout`)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _log_tail(self) -> str:
        if self.log and self.log.exists():
            return ":\n" + self.log.read_text(errors="replace")[-2000:]
        return ""
