"""How a sheet reading of a performance compares with ASAP's annotations and aligned score.

A `SheetReading` is what any system's score says about the performance's own notes: beat and downbeat
times (seconds), time signature, key signature, and per performed note its notated length and hand. The
same `score_reading` judges ours, music21's and MuseScore's, so the numbers are comparable.

MV2H (McLeod & Steedman, ISMIR 2018) is the mean of five F-scores: multi-pitch, voice, meter, note value
and harmony. Here the alignment of transcription to score is ASAP's (performed notes matched to score
notes through the annotated beats) rather than MV2H's own search, and each part follows the paper on
that alignment: multi-pitch is the F1 of notated notes against score notes; voice the F1 of
next-note-in-the-same-voice connections (a voice is a hand/staff); meter the F1 of the metrical grid
(beats and bars, the mean of the two F-measures); value the share of matched notes in a correct
voice whose value is right; harmony the MIREX key score on key signatures (1 same, 0.5 a fifth apart).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import mir_eval
import numpy as np

from notestream.notes import Note
from notestream.score.asap import Annotations, match_performance, read_annotations, read_score_notes, value_at

METRICS = ("beat_f", "downbeat_f", "key_accuracy", "time_signature_accuracy", "note_value_accuracy", "mv2h",
           "time_signature_beats")


@dataclass
class SheetReading:
    """What one system's score says about a performance; lengths and hands keyed by performed-note index."""

    beats: np.ndarray
    downbeats: np.ndarray
    time_signature: str
    key_fifths: int
    lengths: dict[int, Fraction] = field(default_factory=dict)
    hands: dict[int, int] = field(default_factory=dict)
    signatures: tuple[tuple[float, str], ...] = ()  # (time, signature) changes; empty: time_signature throughout

    def signature_at(self, times: np.ndarray) -> list[str]:
        """The time signature the reading writes at each time (seconds)."""
        return value_at(self.signatures, times) if self.signatures else [self.time_signature] * len(times)

    def shifted(self, seconds: float) -> SheetReading:
        """The same reading with every time moved by `seconds` (excerpt time -> performance time)."""
        return replace(self, beats=self.beats + seconds, downbeats=self.downbeats + seconds,
                       signatures=tuple((t + seconds, s) for t, s in self.signatures))


def annotations_within(ann: Annotations, start: float, end: float) -> Annotations:
    """The annotations of the span [start, end): its beats and downbeats, and the time and key signatures in
    force at its start followed by the changes inside it."""

    def inside(times: np.ndarray) -> np.ndarray:
        return times[(times >= start) & (times < end)]

    def changes(values: tuple) -> tuple:
        opening = value_at(values, np.array([start]))[0]
        later = tuple((t, v) for t, v in values if start < t < end)
        return ((start, opening), *later) if values else ()

    return Annotations(inside(ann.beats), inside(ann.downbeats), changes(ann.signatures), changes(ann.keys))


def same_key(fifths: int, reference: int) -> bool:
    """Key signatures agree, counting enharmonic ones (6 sharps = 6 flats) as the same."""
    return (fifths - reference) % 12 == 0


def key_score(fifths: int, reference: int) -> float:
    """MIREX-style key score on key signatures: 1 the same, 0.5 a fifth apart, else 0."""
    apart = (fifths - reference) % 12
    return 1.0 if apart == 0 else 0.5 if apart in (1, 11) else 0.0


def _f1(found: set, truth: set) -> float:
    hits = len(found & truth)
    return 2 * hits / (len(found) + len(truth)) if found or truth else 1.0


def voice_connections(notes: list[Note], hands: dict[int, int]) -> set[tuple[int, int]]:
    """(note, next note) pairs within each voice, in onset order: the links MV2H's voice score counts."""
    links = set()
    for hand in (0, 1):
        members = sorted((i for i, h in hands.items() if h == hand), key=lambda i: (notes[i].onset, notes[i].pitch))
        links |= set(zip(members, members[1:], strict=False))
    return links


def score_reading(
    reading: SheetReading, notes: list[Note], row: dict, asap_root: Path, ann: Annotations,
    window: tuple[float, float] | None = None,
) -> dict:
    """The bench's metrics of one reading (see the module docstring); notes and reading in performance time.

    With a `window` (start, end) the notes are an excerpt's: beats, downbeats and signatures are judged
    inside it only (the reading's too), while notes still match the score through all of `ann`'s beats.
    """
    score = read_score_notes(asap_root / row["midi_score"])
    matches = match_performance(notes, ann, read_annotations(asap_root / row["midi_score_annotations"]), score)
    if window is not None:
        ann = annotations_within(ann, *window)
        keep = (reading.beats >= window[0]) & (reading.beats < window[1])
        kept = (reading.downbeats >= window[0]) & (reading.downbeats < window[1])
        reading = replace(reading, beats=reading.beats[keep], downbeats=reading.downbeats[kept])
    matched = [i for i, j in enumerate(matches) if j is not None]
    right = [i for i in matched if reading.lengths.get(i) == score.lengths[matches[i]]]
    truth_hands = {i: 1 - score.staves[matches[i]] for i in matched}
    beat_f = mir_eval.beat.f_measure(ann.beats, reading.beats)
    downbeat_f = mir_eval.beat.f_measure(ann.downbeats, reading.downbeats)
    value_accuracy = len(right) / len(matched) if matched else 0.0
    notated = set(reading.lengths)
    parts = {
        "multi_pitch": _f1(notated, set(matched)),
        "voice": _f1(voice_connections(notes, {i: h for i, h in reading.hands.items() if i in truth_hands}),
                     voice_connections(notes, truth_hands)),
        "meter": (beat_f + downbeat_f) / 2,
        "value": sum(reading.hands.get(i) == truth_hands[i] for i in right) / len(matched) if matched else 0.0,
        "harmony": key_score(reading.key_fifths, ann.key_fifths),
    }
    return {
        "beat_f": beat_f,
        "downbeat_f": downbeat_f,
        "key_accuracy": float(same_key(reading.key_fifths, ann.key_fifths)),
        "time_signature_accuracy": float(reading.time_signature == ann.time_signature),
        "note_value_accuracy": value_accuracy,
        "mv2h": float(np.mean(list(parts.values()))),
        "mv2h_parts": parts,
        "time_signature_beats": _signature_agreement(reading, ann),
        "estimated": {"key_fifths": reading.key_fifths, "time_signature": reading.time_signature},
    }


def _signature_agreement(reading: SheetReading, ann: Annotations) -> float:
    """Share of annotated beats at which the reading writes the annotated time signature."""
    if len(ann.beats) == 0 or not ann.signatures:
        return float(reading.time_signature == ann.time_signature)
    truth = value_at(ann.signatures, ann.beats)
    return float(np.mean([a == b for a, b in zip(reading.signature_at(ann.beats), truth, strict=True)]))
