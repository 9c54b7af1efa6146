"""The microphone path, for real: PortAudio records from JACK (whose dummy driver needs no sound card),
with a JACK metronome as the sound source."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

from notestream.cli import main
from notestream.client.client import StreamClient
from notestream.client.live import run_live
from notestream.client.sinks import TerminalView
from notestream.client.sources import MicrophoneSource


@pytest.fixture
def jack_microphone(jack_server, monkeypatch):
    """PortAudio rescanned so that it lists JACK's 'system' input (it scans devices once, at start).

    Afterwards it is rescanned without JACK: PortAudio aborts the process at exit if it still holds a
    JACK connection when the test JACK server is gone.
    """
    import sounddevice as sd

    sd._terminate()
    sd._initialize()
    yield "system"
    sd._terminate()
    monkeypatch.setenv("JACK_DEFAULT_SERVER", "notestream-no-jack-here")
    monkeypatch.setenv("JACK_NO_START_SERVER", "1")
    sd._initialize()


def connect_metronome_when_recording(timeout: float = 10.0) -> subprocess.Popen:
    """Start a 600 bpm click and wire it to PortAudio's input as soon as that port exists."""
    metronome = subprocess.Popen(["jack_metro", "-b", "600", "-f", "880", "-A", "0.5", "-D", "40", "-n", "metro"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wire() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ports = subprocess.run(["jack_lsp"], capture_output=True, text=True).stdout.split()
            inputs = [p for p in ports if p.startswith("PortAudio:in")]
            if inputs and "metro:600_bpm" in ports:
                subprocess.run(["jack_connect", "metro:600_bpm", inputs[0]], capture_output=True)
                return
            time.sleep(0.05)

    threading.Thread(target=wire, daemon=True).start()
    return metronome


def test_devices_are_listed_and_chosen_by_name(jack_microphone, capsys):
    assert main(["stream", "--list-devices"]) == 0
    assert re.search(r"^\s*\d+\s+system\s+\(2 ch, 48000 Hz\)$", capsys.readouterr().out, re.M)
    assert MicrophoneSource("syst", 48000).device is not None


def test_microphone_audio_reaches_the_server_with_a_level_meter(jack_microphone, notestream_server):
    screen = io.StringIO()
    metronome = connect_metronome_when_recording()

    async def record() -> tuple:
        source = MicrophoneSource(jack_microphone, 48000, 1)
        stop = asyncio.Event()
        async with StreamClient(notestream_server.url, source.format) as client:
            async def stop_after_audio() -> None:
                while client.audio_seconds < 1.5:
                    await asyncio.sleep(0.05)
                stop.set()

            stopper = asyncio.create_task(stop_after_audio())
            final = await run_live(client, source, [], TerminalView(screen, interactive=True), stop)
            await stopper
            return final, client.audio_seconds

    try:
        final, sent = asyncio.run(record())
    finally:
        metronome.terminate()
        metronome.wait()
    assert final.duration == pytest.approx(sent, abs=0.01)  # every recorded sample reached the server
    levels = [float(db) for db in re.findall(r"\]\s+(-?\d+\.\d) dB", screen.getvalue())]
    assert levels and max(levels) > -30.0  # the clicks show on the meter


def test_ctrl_c_stops_the_recording_and_keeps_the_notes(jack_microphone, notestream_server, tmp_path, capsys):
    saved = tmp_path / "mic.mid"
    threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    code = main(["stream", "mic", "--input-device", "system", "--rate", "48000", "--server", notestream_server.url,
                 "--json", "--save", str(saved)])
    captured = capsys.readouterr()
    assert code == 0
    final = json.loads(captured.out.splitlines()[-1])
    assert final["type"] == "final" and final["duration"] > 0.5
    assert "stopping" in captured.err and saved.is_file()
