"""MIDI files <-> Performance, keeping velocity and the sustain pedal (CC64)."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import pretty_midi

from .notes import MAX_PITCH, MIN_PITCH, Note, PedalSpan, Performance

PEDAL_CC = 64
PEDAL_THRESHOLD = 64
DRUM_CHANNEL = 9  # 0-based; General MIDI channel 10
PITCH_BEND_RANGE_CENTS = 200.0  # General MIDI default bend range: +/- 2 semitones


def pitch_bend_value(cents: float) -> int:
    """The 14-bit pitch-wheel value (-8191..8191 around the centre) that detunes by `cents` at the default range."""
    return int(round(cents / PITCH_BEND_RANGE_CENTS * 8191))


class MidiReadError(ValueError):
    """A MIDI file could not be read; the message names it."""


def pedal_spans_from_cc(times_values: list[tuple[float, int]], end_time: float) -> list[PedalSpan]:
    """CC64 (time, value) pairs, in file order, -> spans where the value is >= 64."""
    spans: list[PedalSpan] = []
    down_at: float | None = None
    for time, value in sorted(times_values, key=lambda change: change[0]):  # stable: file order at ties
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
    """All non-drum piano-range notes and the sustain pedal of a MIDI file.

    The pedal is read from every track, including tracks that hold no notes (pretty_midi drops those).
    """
    try:
        data = Path(path).read_bytes()
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
        cc = _sustain_changes(mido.MidiFile(file=io.BytesIO(data)), pm)
    except Exception as exc:  # pretty_midi/mido raise many types for bad files
        raise MidiReadError(f"{path}: not a readable MIDI file ({_reason(exc)})") from exc
    notes = [
        Note(float(n.start), float(n.end), int(n.pitch), int(n.velocity))
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
        if MIN_PITCH <= n.pitch <= MAX_PITCH and n.end > n.start
    ]
    end = max((n.offset for n in notes), default=0.0)
    return Performance(sorted(notes), pedal_spans_from_cc(cc, end))


def _reason(exc: Exception) -> str:
    """One line saying why reading failed (mido's EOFError has no text of its own)."""
    if isinstance(exc, EOFError):
        return "the file ends too early"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return " ".join(str(exc).split()) or type(exc).__name__


def _sustain_changes(midi: mido.MidiFile, pm: pretty_midi.PrettyMIDI) -> list[tuple[float, int]]:
    """(seconds, value) of every CC64 outside the drum channel, timed with the file's tempo map."""
    changes = []
    for track in midi.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "control_change" and msg.control == PEDAL_CC and msg.channel != DRUM_CHANNEL:
                changes.append((float(pm.tick_to_time(tick)), int(msg.value)))
    return changes


def without_key_overlaps(notes: list[Note]) -> list[Note]:
    """Notes a MIDI file can hold: a key struck again while still sounding is first released.

    MIDI cannot tell two sounding notes of one key apart, so readers would pair the offsets wrongly.
    Of two notes struck on one key at the same instant, the longer is kept.
    """
    by_pitch: dict[int, list[Note]] = {}
    for n in sorted(notes):
        by_pitch.setdefault(n.pitch, []).append(n)
    out: list[Note] = []
    for same_key in by_pitch.values():
        for n, after in zip(same_key, same_key[1:] + [None], strict=True):
            if after is not None and after.onset == n.onset:
                continue
            offset = n.offset if after is None else min(n.offset, after.onset)
            out.append(Note(n.onset, offset, n.pitch, n.velocity))
    return sorted(out)


def performance_to_pretty_midi(performance: Performance, program: int = 0) -> pretty_midi.PrettyMIDI:
    """A one-instrument PrettyMIDI at 120 bpm holding the notes (see `without_key_overlaps`) and pedal."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    piano = pretty_midi.Instrument(program=program, name="Piano")
    for n in without_key_overlaps(performance.notes):
        piano.notes.append(pretty_midi.Note(int(max(1, min(127, n.velocity))), n.pitch, n.onset, n.offset))
    for p in performance.pedals:
        piano.control_changes.append(pretty_midi.ControlChange(PEDAL_CC, 127, p.onset))
        piano.control_changes.append(pretty_midi.ControlChange(PEDAL_CC, 0, p.offset))
    pm.instruments.append(piano)
    return pm


def write_midi(performance: Performance, path: str | Path) -> None:
    """Write notes (with velocity) and pedal spans as a one-track piano MIDI file."""
    performance_to_pretty_midi(performance).write(str(path))
