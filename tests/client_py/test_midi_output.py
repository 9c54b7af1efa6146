"""Live MIDI out through real JACK MIDI ports: what a synth or DAW receives matches the transcription."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

import pytest
import rtmidi

from notestream.audio import write_wav
from notestream.cli import main
from notestream.client.client import StreamClient
from notestream.client.events import LiveEvent
from notestream.client.live import run_live
from notestream.client.midi_out import MidiPortError, open_midi_output
from notestream.client.sinks import MidiPortSink
from notestream.client.sources import FileSource
from notestream.model.transcriber import Transcriber

NOTE_ON, NOTE_OFF, CONTROL = 0x90, 0x80, 0xB0


@pytest.fixture(scope="module")
def excerpt(piano_audio, tmp_path_factory) -> tuple[Path, list]:
    """The first 1.2 s of the piano phrase as a WAV file, and its offline transcription's notes.

    Short, because MIDI goes out at MIDI-cable speed (about 1000 messages a second).
    """
    path = tmp_path_factory.mktemp("midi") / "excerpt.wav"
    audio = piano_audio[: int(1.2 * 16000)]
    write_wav(path, audio, 16000)
    return path, Transcriber.from_checkpoint(device="cpu").transcribe(path).notes


class MidiMonitor:
    """A JACK MIDI input (what a synth would be) that records every message it receives.

    It polls rtmidi's queue: python-rtmidi's callback mode repeats messages under JACK bursts.
    """

    def __init__(self, client_name: str):
        self.messages: list[list[int]] = []
        self.port = rtmidi.MidiIn(rtmidi.API_UNIX_JACK, client_name, queue_size_limit=65536)

    def connect_to(self, name_part: str) -> None:
        names = [self.port.get_port_name(i) for i in range(self.port.get_port_count())]
        self.port.open_port(next(i for i, name in enumerate(names) if name_part in name))

    def wait_for(self, count: int, timeout: float = 30.0, quiet: float = 0.3) -> list[list[int]]:
        """Messages once at least `count` have come and none for `quiet` seconds (a loaded machine delivers late)."""
        deadline = time.monotonic() + timeout
        last_change, seen = time.monotonic(), 0
        while time.monotonic() < deadline:
            self._drain()
            if len(self.messages) != seen:
                last_change, seen = time.monotonic(), len(self.messages)
            if seen >= count and time.monotonic() - last_change >= quiet:
                break
            time.sleep(0.02)
        return list(self.messages)

    def wait_until(self, done, timeout: float = 30.0) -> list[list[int]]:
        """Messages once `done(messages)` holds (or at the timeout): for a test that knows what must arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            if done(self.messages):
                break
            time.sleep(0.02)
        return list(self.messages)

    def _drain(self) -> None:
        while message := self.port.get_message():
            self.messages.append(message[0])

    def close(self) -> None:
        self.port.close_port()
        self.port.delete()


def expected_messages(events: list[dict]) -> list[list[int]]:
    """The MIDI a client must play for these events, in the order they arrived."""
    out = []
    for e in events:
        if e["type"] == "note_on":
            out.append([NOTE_ON, e["pitch"], e["velocity"]])
        elif e["type"] == "note_off":
            out.append([NOTE_OFF, e["pitch"], 0])
        elif e["type"] in ("pedal_on", "pedal_off"):
            out.append([CONTROL, 64, 127 if e["type"] == "pedal_on" else 0])
    return out


def test_an_existing_port_receives_every_note_in_order(jack_server, notestream_server, excerpt, capsys):
    path, notes = excerpt
    synth = MidiMonitor("synth")
    synth.port.open_virtual_port("piano-in")
    try:
        assert main(["stream", "--list-midi-ports", "--midi-backend", jack_server]) == 0
        assert "synth:piano-in" in capsys.readouterr().out.splitlines()
        code = main(["stream", str(path), "--server", notestream_server.url, "--fast", "--json",
                     "--midi-port", "piano-in", "--midi-backend", jack_server])
        assert code == 0
        events = [json.loads(line) for line in capsys.readouterr().out.splitlines()][:-1]
        expected = expected_messages(events)
        received = synth.wait_for(len(expected))
    finally:
        synth.close()
    assert received == expected
    ons = [(m[1], m[2]) for m in received if m[0] == NOTE_ON]
    assert Counter(ons) == Counter((n.pitch, n.velocity) for n in notes)
    assert sum(m[0] == NOTE_OFF for m in received) == len(notes)


def test_a_virtual_port_serves_a_synth_that_connects_to_it(jack_server, notestream_server, excerpt):
    path, notes = excerpt
    port = open_midi_output(virtual="live-notes", backend=jack_server)
    synth = MidiMonitor("synth2")
    synth.connect_to("live-notes")
    received_events: list[LiveEvent] = []

    class Record:
        def handle(self, event):
            if isinstance(event, LiveEvent):
                received_events.append(event)

        def close(self, final):
            pass

    async def stream() -> None:
        source = FileSource(path, realtime=False)
        async with StreamClient(notestream_server.url, source.format) as client:
            await run_live(client, source, [MidiPortSink(port), Record()])

    def every_key_released(messages: list[list[int]]) -> bool:
        ons = sum(m[0] == NOTE_ON for m in messages)
        return ons == len(notes) and sum(m[0] == NOTE_OFF for m in messages) >= ons

    try:
        asyncio.run(stream())
        received = synth.wait_until(every_key_released)  # a loaded machine can deliver the last ones late
    finally:
        synth.close()
    notes_played = [(m[1], m[2]) for m in received if m[0] == NOTE_ON]
    assert notes_played == [(e.pitch, e.velocity) for e in received_events if e.kind == "note_on"]
    assert Counter(notes_played) == Counter((n.pitch, n.velocity) for n in notes)
    # every key that went down came up again, each after its own note_on
    down: set[int] = set()
    for status, pitch, _ in received:
        if status == NOTE_ON:
            down.add(pitch)
        elif status == NOTE_OFF:
            assert pitch in down
            down.discard(pitch)
    assert not down


def test_a_missing_port_is_one_clear_line(jack_server, capsys):
    with pytest.raises(MidiPortError, match="no MIDI output port named 'no-such-synth'"):
        open_midi_output("no-such-synth", backend=jack_server)
    code = main(["stream", "-", "--rate", "16000", "--midi-port", "no-such-synth", "--midi-backend", jack_server])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("notestream stream: error: no MIDI output port named 'no-such-synth'")
    assert "\n" not in err
