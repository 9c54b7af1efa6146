"""Sinks: the terminal view, JSON lines and the MIDI file show what arrived, in the form each promises."""

from __future__ import annotations

import io
import json

from notestream.client.events import LiveEvent, StreamFinal, StreamStatus
from notestream.client.sinks import JsonLinesSink, MidiFileRecorder, TerminalView, level_meter
from notestream.midi import read_midi

EVENTS = [
    LiveEvent("note_on", 0.5, 60, 80, latency=0.61, seq=1),
    LiveEvent("pedal_on", 0.6, None, 127, latency=0.6, seq=2),
    LiveEvent("note_off", 1.0, 60, 0, latency=0.55, seq=3),
    LiveEvent("pedal_off", 1.5, None, 0, latency=0.5, seq=4),
]
FINAL = StreamFinal("s_1", 1, 2.0, {"midi": "/v1/sessions/s_1.mid"})


def test_terminal_view_lists_notes_and_pedal_with_latency():
    out = io.StringIO()
    view = TerminalView(out, interactive=False)
    for event in [*EVENTS, StreamStatus(2.0, 1.9, 0.1), FINAL]:
        view.handle(event)
    view.close(FINAL)
    assert out.getvalue().splitlines() == [
        "    0.500 s  C4   ( 60)  vel  80  latency 0.610 s",
        "    0.600 s  pedal down  latency 0.600 s",
        "    1.500 s  pedal up  latency 0.500 s",
        "done: 1 notes in 2.0 s (session s_1); results at /v1/sessions/s_1.mid",
    ]


def test_on_a_terminal_a_status_line_shows_the_input_level():
    out = io.StringIO()
    view = TerminalView(out, interactive=True)
    view.show_input(-6.0, 3.0)
    assert out.getvalue() == f"{level_meter(-6.0)}   -6.0 dB  sent     3.0 s  lag 0.00 s"
    view.handle(EVENTS[0])  # the note line replaces the status line, which is drawn again below it
    assert "\r" in out.getvalue() and out.getvalue().endswith("lag 0.00 s")
    assert level_meter(0.0, width=4) == "[####]" and level_meter(-120.0, width=4) == "[....]"


def test_json_lines_carry_every_event_and_the_final_summary():
    out = io.StringIO()
    sink = JsonLinesSink(out)
    for event in [*EVENTS, StreamStatus(2.0, 1.9, 0.1), FINAL]:
        sink.handle(event)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["type"] for line in lines] == ["note_on", "pedal_on", "note_off", "pedal_off", "final"]
    assert lines[0] == {"type": "note_on", "time": 0.5, "pitch": 60, "name": "C4", "velocity": 80, "latency": 0.61}


def test_the_midi_file_holds_the_notes_velocity_and_pedal(tmp_path):
    path = tmp_path / "take.mid"
    recorder = MidiFileRecorder(path)
    for event in EVENTS:
        recorder.handle(event)
    recorder.close(FINAL)
    performance = read_midi(path)
    assert [(n.pitch, n.velocity) for n in performance.notes] == [(60, 80)]
    assert abs(performance.notes[0].onset - 0.5) < 0.005 and abs(performance.notes[0].offset - 1.0) < 0.005
    assert len(performance.pedals) == 1 and abs(performance.pedals[0].onset - 0.6) < 0.005


def test_the_midi_file_is_written_even_when_the_stream_failed(tmp_path):
    path = tmp_path / "partial.mid"
    recorder = MidiFileRecorder(path)
    for event in EVENTS[:2]:  # note_on, pedal_on, then the connection died
        recorder.handle(event)
    recorder.close(None)  # no final summary: what is still down ends at the last event
    performance = read_midi(path)
    assert [(n.pitch, n.velocity) for n in performance.notes] == [(60, 80)]
    assert abs(performance.notes[0].offset - 0.6) < 0.005
