"""The scores users get elsewhere from a performance MIDI, read as `SheetReading`s: music21's plain import
(`quantizePost`, the file's own tick grid and 4/4, music21's own key analysis) and MuseScore 3's MIDI
import (`mscore3 -o out.musicxml in.mid`, headless, which tracks beats itself), parsed back with music21.

Each performed note reads the length and staff of the notated note it became (the k-th of its pitch).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pretty_midi

from notestream.notes import Note
from notestream.score.meter import BEAT_SHAPES
from notestream_bench.score_metrics import SheetReading

MUSESCORE = "mscore3"
MUSESCORE_TIMEOUT_S = 300


def musescore_available() -> bool:
    return shutil.which(MUSESCORE) is not None


def _metrical_grid(parsed, to_seconds) -> tuple[np.ndarray, np.ndarray, list[tuple[float, str]]]:
    """Beat and bar-line times (seconds) of the first part's measures, and its time signatures as
    (seconds, signature) changes, the opening one first."""
    from music21 import meter, stream

    part = parsed.parts[0] if parsed.parts else parsed
    beats, downbeats, changes, current = [], [], [], None
    for measure in part.getElementsByClass(stream.Measure):
        found = measure.getElementsByClass(meter.TimeSignature).first()
        start, length = float(measure.offset), float(measure.duration.quarterLength)
        if current is None or (found is not None and found.ratioString != current.ratioString):
            current = found or meter.TimeSignature("4/4")
            changes.append((to_seconds(start), current.ratioString))
        beat = BEAT_SHAPES.get(current.ratioString, (0, float(current.beatDuration.quarterLength)))[1]
        downbeats.append(to_seconds(start))
        beats += [to_seconds(start + k * beat) for k in np.arange(0, length - 1e-6, beat)]
    return np.array(beats), np.array(downbeats), changes or [(0.0, "4/4")]


def _pair_by_pitch_order(events: list[tuple[float, int, Fraction, int]], notes: list[Note]) -> list[tuple]:
    """(performed-note index, event) pairs: the k-th notated note of each pitch is the k-th performed one."""
    pairs = []
    for pitch in {n.pitch for n in notes}:
        performed = sorted((i for i, n in enumerate(notes) if n.pitch == pitch), key=lambda i: notes[i].onset)
        notated = sorted((e for e in events if e[1] == pitch), key=lambda e: e[0])
        pairs += list(zip(performed, notated, strict=False))
    return pairs


def read_stream(parsed, notes: list[Note], key_fifths: int, to_seconds=None) -> SheetReading:
    """A SheetReading of a music21 score of the performance.

    A peer may re-time the music (MuseScore tracks beats), so its quarter offsets are placed in
    performance time through its own notes: the k-th notated note of a pitch is the k-th performed one,
    and offsets between matched notes are interpolated, unless `to_seconds` (quarters -> seconds) is given.
    """
    events = []
    parts = parsed.parts if parsed.parts else [parsed]
    for number, part in enumerate(parts):
        for element in part.stripTies().flatten().notes:
            length = Fraction(element.quarterLength).limit_denominator(48)
            events += [(float(element.offset), p.midi, length, int(number == 0)) for p in element.pitches]
    pairs = _pair_by_pitch_order(events, notes)
    lengths = {i: e[2] for i, e in pairs}
    hands = {i: e[3] for i, e in pairs}
    anchors = sorted((e[0], notes[i].onset) for i, e in pairs)
    quarters = np.array([q for q, _ in anchors] or [0.0])
    seconds = np.maximum.accumulate(np.array([t for _, t in anchors] or [0.0]))

    def through_notes(position: float) -> float:
        return float(np.interp(position, quarters, seconds, left=np.nan, right=np.nan))

    beats, downbeats, changes = _metrical_grid(parsed, to_seconds or through_notes)
    placed = ((-np.inf, changes[0][1]), *((t, s) for t, s in changes[1:] if np.isfinite(t)))
    return SheetReading(_placed(beats), _placed(downbeats), changes[0][1], key_fifths, lengths, hands, placed)


def _placed(times: np.ndarray) -> np.ndarray:
    """Grid times that fall inside the matched notes' span, without repeats."""
    times = times[np.isfinite(times)]
    return np.unique(times)


def music21_reading(midi_path: Path, notes: list[Note]) -> SheetReading:
    """music21's plain MIDI import with quantizePost and its own key analysis."""
    from music21 import converter

    parsed = converter.parse(str(midi_path), quantizePost=True)
    pm = pretty_midi.PrettyMIDI(str(midi_path))

    def file_grid(quarters: float) -> float:
        return float(pm.tick_to_time(int(round(quarters * pm.resolution))))

    return read_stream(parsed, notes, parsed.analyze("key").sharps, file_grid)


def musescore_reading(midi_path: Path, notes: list[Note]) -> SheetReading:
    """MuseScore 3's MIDI import, exported as MusicXML and read back with its own key signature."""
    from music21 import converter, key

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "musescore.musicxml"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        done = subprocess.run([MUSESCORE, "-o", str(out), str(midi_path)], env=env, capture_output=True,
                              timeout=MUSESCORE_TIMEOUT_S, check=False)
        if not out.is_file():
            raise RuntimeError(f"{MUSESCORE} could not import {midi_path}: {done.stderr.decode()[-300:]}")
        parsed = converter.parse(str(out))
    signature = parsed.recurse().getElementsByClass(key.KeySignature).first()
    return read_stream(parsed, notes, signature.sharps if signature is not None else 0)
