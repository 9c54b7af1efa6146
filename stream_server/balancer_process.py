"""HAProxy in front of local `notestream serve` replicas, started and stopped from Python: for the tests and
the benchmark of deploy/haproxy.cfg (the configuration operators use, read from the environment)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from .process import free_port


@dataclass
class BalancerProcess:
    """`haproxy -f CONFIG` listening on 127.0.0.1:`port`, with replica `name` at 127.0.0.1:`replicas[name]`."""

    config: Path
    port: int
    replicas: dict[str, int]
    log: Path | None = None
    process: subprocess.Popen | None = field(default=None, repr=False)

    @classmethod
    def start(cls, config: Path, replicas: dict[str, int], log: Path | None = None, timeout: float = 30.0) -> BalancerProcess:
        """Start HAProxy and return once it accepts connections."""
        if shutil.which("haproxy") is None:
            raise RuntimeError("haproxy is not installed (Debian package haproxy; `make install` adds it)")
        balancer = cls(Path(config), free_port(), dict(replicas), log)
        env = {**os.environ, "NOTESTREAM_LISTEN": f"127.0.0.1:{balancer.port}",
               **{f"NOTESTREAM_{name.upper()}": f"127.0.0.1:{port}" for name, port in replicas.items()}}
        output = open(log, "a") if log else subprocess.DEVNULL  # noqa: SIM115 — the child keeps it
        try:
            balancer.process = subprocess.Popen(["haproxy", "-db", "-f", str(config)], stdout=output,
                                                stderr=subprocess.STDOUT, env=env)
        finally:
            if log:
                output.close()
        balancer._wait_listening(timeout)
        return balancer

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""
                raise RuntimeError(f"haproxy exited with code {self.process.returncode}:\n{tail}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1.0).close()
                return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"haproxy did not listen on port {self.port} within {timeout:g} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
