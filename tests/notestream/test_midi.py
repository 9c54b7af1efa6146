"""MIDI files <-> Performance: velocity and the sustain pedal (CC64) survive, bad files are named."""

from __future__ import annotations

from pathlib import Path

import mido
import pytest

from notestream.midi import MidiReadError, pedal_spans_from_cc, read_midi, without_key_overlaps, write_midi
from notestream.notes import Note, PedalSpan, Performance

TICK = 1 / 440  # write_midi: 120 bpm at 220 ticks per beat


def assert_same_notes(got: list[Note], expected: list[Note]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (g.pitch, g.velocity) == (e.pitch, e.velocity)
        assert g.onset == pytest.approx(e.onset, abs=TICK / 2)
        assert g.offset == pytest.approx(e.offset, abs=TICK / 2)


def assert_same_pedals(got: list[PedalSpan], expected: list[PedalSpan]) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        assert (g.onset, g.offset) == pytest.approx((e.onset, e.offset), abs=TICK / 2)


def save_tracks(path: Path, tracks: list[list[mido.Message | mido.MetaMessage]], ticks_per_beat: int = 480) -> Path:
    """A type-1 MIDI file with the given tracks (message times are delta ticks)."""
    midi = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    for messages in tracks:
        midi.tracks.append(mido.MidiTrack(messages))
    midi.save(str(path))
    return path


def test_round_trip_keeps_notes_velocities_and_pedal(tmp_path: Path) -> None:
    performance = Performance(
        notes=[Note(0.1, 1.234, 60, 17), Note(0.5, 0.9, 21, 1), Note(0.5, 0.9, 108, 127), Note(1.3, 2.0, 60, 90)],
        pedals=[PedalSpan(0.2, 0.7), PedalSpan(0.7, 1.5), PedalSpan(1.8, 2.4)],
    )
    write_midi(performance, tmp_path / "take.mid")
    back = read_midi(tmp_path / "take.mid")
    assert_same_notes(back.notes, sorted(performance.notes))
    assert_same_pedals(back.pedals, performance.pedals)


def test_a_key_struck_again_while_sounding_is_written_as_release_then_strike(tmp_path: Path) -> None:
    overlapping = [Note(0.0, 1.5, 60, 50), Note(1.0, 2.0, 60, 90), Note(3.0, 3.5, 62, 40), Note(3.0, 3.2, 62, 70)]
    expected = [Note(0.0, 1.0, 60, 50), Note(1.0, 2.0, 60, 90), Note(3.0, 3.5, 62, 40)]
    assert without_key_overlaps(overlapping) == expected
    write_midi(Performance(overlapping, []), tmp_path / "overlap.mid")
    assert_same_notes(read_midi(tmp_path / "overlap.mid").notes, expected)


def test_written_file_is_one_piano_track_with_cc64_for_the_pedal(tmp_path: Path) -> None:
    write_midi(Performance([Note(0.0, 1.0, 60, 80)], [PedalSpan(0.25, 0.75)]), tmp_path / "take.mid")
    messages = list(mido.MidiFile(str(tmp_path / "take.mid")))
    programs = [m.program for m in messages if m.type == "program_change"]
    pedal_values = [m.value for m in messages if m.type == "control_change" and m.control == 64]
    assert programs == [0]
    assert pedal_values == [127, 0]


def test_pedal_on_a_track_without_notes_is_read(tmp_path: Path) -> None:
    tempo = [mido.MetaMessage("set_tempo", tempo=1_000_000, time=0)]  # 60 bpm: 480 ticks = 1 s
    keys = [mido.Message("note_on", note=60, velocity=70, time=0), mido.Message("note_off", note=60, time=480)]
    pedal = [
        mido.Message("control_change", control=64, value=127, time=240),
        mido.Message("control_change", control=64, value=0, time=960),
    ]
    performance = read_midi(save_tracks(tmp_path / "split.mid", [tempo, keys, pedal]))
    assert performance.notes == [Note(0.0, 1.0, 60, 70)]
    assert performance.pedals == [PedalSpan(0.5, 2.5)]


def test_pedal_is_down_from_value_64_and_half_pedal_values_do_not_lift_it(tmp_path: Path) -> None:
    track = [
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),  # 120 bpm: 480 ticks = 0.5 s
        mido.Message("note_on", note=60, velocity=70, time=0),
        mido.Message("control_change", control=64, value=63, time=240),  # 0.25 s: still up
        mido.Message("control_change", control=64, value=64, time=240),  # 0.5 s: down
        mido.Message("control_change", control=64, value=100, time=240),  # 0.75 s: still down
        mido.Message("control_change", control=64, value=80, time=240),  # 1.0 s: still down
        mido.Message("control_change", control=64, value=20, time=480),  # 1.5 s: up
        mido.Message("note_off", note=60, time=480),  # 2.0 s
    ]
    assert read_midi(save_tracks(tmp_path / "half.mid", [track])).pedals == [PedalSpan(0.5, 1.5)]


def test_pedal_spans_follow_the_file_order_and_close_at_the_end() -> None:
    assert pedal_spans_from_cc([(1.0, 127), (2.0, 0), (3.0, 127)], end_time=4.0) == [
        PedalSpan(1.0, 2.0), PedalSpan(3.0, 4.0),
    ]
    assert pedal_spans_from_cc([(1.0, 127), (1.0, 0)], end_time=4.0) == []
    # Released and pressed again at one instant: two spans, in the order the file gives.
    assert pedal_spans_from_cc([(0.0, 127), (1.0, 0), (1.0, 127), (2.0, 0)], end_time=4.0) == [
        PedalSpan(0.0, 1.0), PedalSpan(1.0, 2.0),
    ]


def test_drums_notes_outside_the_piano_and_empty_notes_are_left_out(tmp_path: Path) -> None:
    track = [
        mido.MetaMessage("set_tempo", tempo=500_000, time=0),
        mido.Message("note_on", channel=9, note=36, velocity=100, time=0),  # a kick drum
        mido.Message("note_on", note=12, velocity=100, time=0),  # below A0
        mido.Message("note_on", note=64, velocity=100, time=0),
        mido.Message("note_on", note=72, velocity=100, time=0),
        mido.Message("note_off", note=72, time=0),  # zero length
        mido.Message("note_off", channel=9, note=36, time=480),
        mido.Message("note_off", note=12, time=0),
        mido.Message("note_off", note=64, time=0),
    ]
    assert read_midi(save_tracks(tmp_path / "mixed.mid", [track])).notes == [Note(0.0, 0.5, 64, 100)]


@pytest.mark.parametrize(
    ("name", "content"),
    [("text.mid", b"this is not a MIDI file\n"), ("empty.mid", b""), ("cut.mid", b"MThd\x00\x00\x00\x06\x00\x01")],
)
def test_unreadable_midi_raises_one_line_naming_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MidiReadError, match=name) as info:
        read_midi(path)
    message = str(info.value)
    assert "\n" not in message and not message.endswith("()")


def test_a_missing_midi_file_is_a_midi_read_error(tmp_path: Path) -> None:
    with pytest.raises(MidiReadError, match="absent.mid.*No such file"):
        read_midi(tmp_path / "absent.mid")
