"""Fixtures for client tests: a real JACK server (for real MIDI ports) and a real notestream server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from notestream.server.process import ServerProcess
from notestream_bench.jack_server import dummy_jack_server, jackd_available


@pytest.fixture(scope="session")
def notestream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server shared by the client tests, with its own temporary data folder."""
    data_dir = tmp_path_factory.mktemp("server") / "data"
    server = ServerProcess.start(data_dir, "--device", "cpu", "--log-format", "text",
                                 log=data_dir.parent / "server.log")
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
    if not jackd_available():
        pytest.skip("jackd is not installed")
    with dummy_jack_server(tmp_path_factory.mktemp("jack") / "jackd.log", period=2048) as backend:
        yield backend
