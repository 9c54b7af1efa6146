"""Fuzz suite: hundreds of generated hostile requests against a real `notestream serve` process.

For every case: the answer is the documented one (fuzz_ws_cases.py, fuzz_http_cases.py), the server still
answers /healthz, its log has no traceback and no internal error, its memory stays bounded, and no
upload leaves bytes behind in incoming/.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from notestream.server.process import ServerProcess
from tests.stream_server.fuzz_http_cases import HttpCase, all_http_cases
from tests.stream_server.fuzz_ws_cases import WsCase, all_ws_cases
from tests.stream_server.raw_wire import raw_http

WS_CASES = all_ws_cases()
HTTP_CASES = all_http_cases()
RSS_HEADROOM_MB = 300  # above the RSS after start-up; a leak or a bomb goes far past it
SERVER_ARGS = ("--device", "cpu", "--log-format", "text", "--max-message-kb", "64", "--resume-window", "2",
               "--max-detached-sessions", "4", "--max-queued-jobs", "64", "--max-jobs-per-address", "0",
               "--max-upload-mb", "5", "--idle-timeout", "2")


class WatchedServer:
    """A real server process plus what the checks read: its log (from an offset) and its RSS."""

    def __init__(self, tmp: Path):
        self.log = tmp / "server.log"
        # unbuffered, so whatever start-up prints (pyfluidsynth names its library when CI is set) is in the log
        # before /healthz answers; the checks read only what the hostile input caused after that
        self.server = ServerProcess.start(tmp / "data", *SERVER_ARGS, log=self.log,
                                          env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self._offset = len(self.log.read_text(errors="replace"))
        self.idle_rss_mb = self.rss_mb()

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.server.process.pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) / 1024

    def new_log(self) -> str:
        """Whole lines written since the last call; a line the server is still writing waits for the next."""
        text = self.log.read_text(errors="replace")
        end = text.rfind("\n") + 1
        if end <= self._offset:
            return ""
        new, self._offset = text[self._offset:end], end
        return new

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.server.http}/healthz", timeout=10) as response:
            return json.load(response)["status"] == "ok"


@pytest.fixture(scope="module")
def watched(tmp_path_factory) -> WatchedServer:
    watched = WatchedServer(tmp_path_factory.mktemp("fuzz"))
    yield watched
    watched.server.stop()


def assert_server_unharmed(watched: WatchedServer, case_name: str) -> None:
    assert watched.healthy(), case_name
    log = watched.new_log()
    assert "Traceback" not in log and "internal" not in log, f"{case_name}:\n{log[-3000:]}"
    unexpected = [line for line in log.splitlines() if not line.startswith(("INFO ", "WARNING "))]
    assert not unexpected, f"{case_name}: log lines that are not one INFO or WARNING line each: {unexpected[:5]}"
    assert watched.rss_mb() < watched.idle_rss_mb + RSS_HEADROOM_MB, case_name


@pytest.mark.parametrize("case", WS_CASES, ids=[c.name for c in WS_CASES])
def test_hostile_websocket_input_gets_the_documented_answer(watched, case: WsCase):
    assert asyncio.run(case.run(watched.server.port)) == case.expected
    assert_server_unharmed(watched, case.name)


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c.name for c in HTTP_CASES])
def test_hostile_http_input_gets_the_documented_answer(watched, case: HttpCase):
    assert asyncio.run(case.run(watched.server.port)) == case.expected
    incoming = watched.server.data_dir / "incoming"
    deadline = time.monotonic() + 5
    while incoming.exists() and any(incoming.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.05)  # an aborted body is noticed when the connection's end reaches the server
    assert not incoming.exists() or not any(incoming.iterdir()), f"{case.name} left {list(incoming.iterdir())}"
    assert_server_unharmed(watched, case.name)


def test_the_suite_is_at_least_300_cases():
    assert len(WS_CASES) + len(HTTP_CASES) >= 300


def test_unfinished_headers_are_dropped_after_the_idle_timeout(watched):
    async def slow_headers() -> tuple[bytes, float]:
        began = time.monotonic()
        answer = await raw_http(watched.server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: 1\r\n", timeout=20)
        return answer, time.monotonic() - began

    answer, waited = asyncio.run(slow_headers())
    assert answer == b"" and waited < 10  # --idle-timeout 2: closed without an answer, long before the 20 s the client waits
    assert_server_unharmed(watched, "slow headers")
