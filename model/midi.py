"""MIDI files <-> Performance, keeping velocity and the sustain pedal (CC64)."""

from __future__ import annotations

from pathlib import Path

import pretty_midi

from .notes import MAX_PITCH, MIN_PITCH, Note, PedalSpan, Performance

PEDAL_CC = 64
PEDAL_THRESHOLD = 64


class MidiReadError(ValueError):
    """A MIDI file could not be read; the message names it."""


def pedal_spans_from_cc(times_values: list[tuple[float, int]], end_time: float) -> list[PedalSpan]:
    """CC64 (time, value) pairs -> spans where the value is >= 64."""
    spans: list[PedalSpan] = []
    down_at: float | None = None
    for time, value in sorted(times_values):
        if value >= PEDAL_THRESHOLD and down_at is None:
            down_at = time
        elif value < PEDAL_THRESHOLD and down_at is not None:
            if time > down_at:
                spans.append(PedalSpan(down_at, time))
            down_at = None
    if down_at is not None and end_time > down_at:
        spans.append(PedalSpan(down_at, end_time))
    return spans


def read_midi(path: str | Path) -> Performance:
    """All non-drum piano-range notes and the sustain pedal of a MIDI file."""
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # pretty_midi/mido raise many types for bad files
        raise MidiReadError(f"{path}: not a readable MIDI file ({exc})") from exc
    notes: list[Note] = []
    cc: list[tuple[float, int]] = []
    for inst in pm.instruments:
        if inst.is_drum:
            continue
        notes += [
            Note(float(n.start), float(n.end), int(n.pitch), int(n.velocity))
            for n in inst.notes
            if MIN_PITCH <= n.pitch <= MAX_PITCH and n.end > n.start
        ]
        cc += [(float(c.time), int(c.value)) for c in inst.control_changes if c.number == PEDAL_CC]
    end = max((n.offset for n in notes), default=0.0)
    return Performance(sorted(notes), pedal_spans_from_cc(cc, end))


def performance_to_pretty_midi(performance: Performance, program: int = 0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    piano = pretty_midi.Instrument(program=program, name="Piano")
    for n in performance.notes:
        piano.notes.append(pretty_midi.Note(int(max(1, min(127, n.velocity))), n.pitch, n.onset, n.offset))
    for p in performance.pedals:
        piano.control_changes.append(pretty_midi.ControlChange(PEDAL_CC, 127, p.onset))
        piano.control_changes.append(pretty_midi.ControlChange(PEDAL_CC, 0, p.offset))
    pm.instruments.append(piano)
    return pm


def write_midi(performance: Performance, path: str | Path) -> None:
    """Write notes (with velocity) and pedal spans as a one-track piano MIDI file."""
    performance_to_pretty_midi(performance).write(str(path))
