"""A JACK server with the dummy driver (no sound card needed), for the MIDI tests and the JACK latency bench.

While it runs, $JACK_DEFAULT_SERVER names it in this process, so every JACK client opened here (mido's
rtmidi backend, rtmidi itself) talks to it and never to a user's own JACK server.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

JACK_BACKEND = "mido.backends.rtmidi/UNIX_JACK"
_SERVERS = itertools.count()  # each server of this process gets a name of its own


def jackd_available() -> bool:
    """Whether the `jackd` program is installed (Debian's jackd2)."""
    return shutil.which("jackd") is not None


@contextmanager
def dummy_jack_server(log_path: Path, period: int = 2048, rate: int = 48000) -> Iterator[str]:
    """Run `jackd -d dummy` with `period` frames per cycle at `rate`; yields mido's backend name for JACK.

    A cycle is `period / rate` seconds: the longest a MIDI event written between cycles waits for the next.
    """
    if not jackd_available():
        raise FileNotFoundError("jackd is not installed: install Debian's 'jackd2' package")
    name = f"notestream-{os.getpid()}-{next(_SERVERS)}"
    env = {**os.environ, "JACK_NO_AUDIO_RESERVATION": "1", "JACK_DEFAULT_SERVER": name}
    with log_path.open("w") as log:
        process = subprocess.Popen(["jackd", "--no-realtime", "-d", "dummy", "-r", str(rate), "-p", str(period)],
                                   stdout=log, stderr=subprocess.STDOUT, env=env)
        previous = os.environ.get("JACK_DEFAULT_SERVER")
        os.environ["JACK_DEFAULT_SERVER"] = name
        try:
            _wait_for_jack(process)
            yield JACK_BACKEND
        finally:
            if previous is None:
                os.environ.pop("JACK_DEFAULT_SERVER", None)
            else:
                os.environ["JACK_DEFAULT_SERVER"] = previous
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


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
