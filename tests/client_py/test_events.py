"""Server messages become typed events, and received events pair back into notes and pedal spans."""

import pytest

from notestream.client.client import stream_url
from notestream.client.events import (
    LiveEvent,
    ProtocolError,
    StreamFinal,
    StreamStatus,
    parse_server_message,
)
from notestream.notes import Note, PedalSpan, events_to_performance, notes_to_events


def test_note_messages_parse_into_note_events_with_names():
    event = parse_server_message({"type": "note_on", "seq": 3, "pitch": 61, "name": "C#4", "velocity": 90, "time": 1.5})
    assert isinstance(event, LiveEvent)
    assert (event.kind, event.time, event.pitch, event.velocity, event.seq, event.name) == ("note_on", 1.5, 61, 90, 3, "C#4")
    pedal = parse_server_message({"type": "pedal_on", "seq": 4, "time": 2.0})
    assert pedal.pitch is None and pedal.name == "pedal" and pedal.velocity == 127
    assert pedal.to_json() == {"type": "pedal_on", "time": 2.0, "velocity": 127}


def test_status_final_and_unknown_messages():
    status = parse_server_message({"type": "status", "audio_seconds": 2.0, "processed_seconds": 1.5,
                                   "lag_seconds": 0.5, "audio_frames": 24000})
    assert status == StreamStatus(2.0, 1.5, 0.5, 24000)
    final = parse_server_message({"type": "final", "session": "s_1", "notes": 2, "duration": 3.0, "urls": {"midi": "/m"}})
    assert final == StreamFinal("s_1", 2, 3.0, {"midi": "/m"})
    assert parse_server_message({"type": "ready", "session": "s"}) is None
    with pytest.raises(ProtocolError, match="malformed 'note_on'"):
        parse_server_message({"type": "note_on", "pitch": 60})


def test_events_pair_back_into_the_notes_and_pedals_they_came_from():
    notes = [Note(0.0, 0.5, 60, 80), Note(0.5, 1.0, 60, 70), Note(0.25, 2.0, 64, 50)]
    pedals = [PedalSpan(0.1, 1.5)]
    performance = events_to_performance(notes_to_events(notes, pedals))
    assert performance.notes == sorted(notes)
    assert performance.pedals == pedals


def test_notes_open_at_the_end_close_at_the_end_time():
    events = [LiveEvent("note_on", 1.0, 70, 99), LiveEvent("pedal_on", 1.2, None, 127)]
    performance = events_to_performance(events, end_time=3.0)
    assert performance.notes == [Note(1.0, 3.0, 70, 99)]
    assert performance.pedals == [PedalSpan(1.2, 3.0)]


def test_server_addresses_become_stream_urls():
    assert stream_url("localhost:8000") == "ws://localhost:8000/v1/stream"
    assert stream_url("https://example.org/") == "wss://example.org/v1/stream"
    assert stream_url("ws://h:1/v1/stream", api_key="k y") == "ws://h:1/v1/stream?api_key=k+y"
    with pytest.raises(ValueError, match="ftp://x"):
        stream_url("ftp://x")
