"""Fixtures for client tests: a real JACK server (for real MIDI ports) and a real notestream server."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from notestream.server.process import ServerProcess

JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"


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
