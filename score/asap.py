"""ASAP annotations read for sheet music: beats, downbeats, time- and key-signature changes, and the
performance-to-score note matching that gives each performed note its staff and its notated length.

Used by the rhythm model's training and by `bench score`, so both read the data one way.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import pretty_midi

from notestream.notes import Note

MATCH_TOLERANCE_S = 0.1  # in score time (score MIDI at 120 bpm)


@dataclass(frozen=True)
class Annotations:
    """One ASAP annotation file.

    beats, downbeats: times in seconds. signatures / keys: (time, value) changes in time order, the
    time signature as written ('6/8') and the key signature in fifths (sharps > 0).
    """

    beats: np.ndarray
    downbeats: np.ndarray
    signatures: tuple[tuple[float, str], ...]
    keys: tuple[tuple[float, int], ...]

    @property
    def time_signature(self) -> str:
        """The opening time signature (4/4 when none is annotated)."""
        return self.signatures[0][1] if self.signatures else "4/4"

    @property
    def key_fifths(self) -> int:
        """The opening key signature in fifths (0 when none is annotated)."""
        return self.keys[0][1] if self.keys else 0


def read_annotations(path: Path) -> Annotations:
    """Parse `<time>\\t<time>\\t<b|db|bR>[,<time signature>[,<key in sharps>]]` lines."""
    beats, downbeats, signatures, keys = [], [], [], []
    for line in Path(path).read_text().splitlines():
        fields = line.split("\t")
        if len(fields) < 3:
            continue
        time_s, (kind, *extra) = float(fields[0]), fields[2].split(",")
        beats.append(time_s)
        if kind == "db":
            downbeats.append(time_s)
        if len(extra) > 0 and extra[0]:
            signatures.append((time_s, extra[0]))
        if len(extra) > 1 and extra[1]:
            keys.append((time_s, int(extra[1])))
    return Annotations(np.array(beats), np.array(downbeats), tuple(signatures), tuple(keys))


def value_at(changes: tuple[tuple[float, object], ...], times: np.ndarray) -> list:
    """The value in force at each time (the first value before the first change)."""
    if not changes:
        return [None] * len(times)
    starts = np.array([t for t, _ in changes])
    index = np.clip(np.searchsorted(starts, times, side="right") - 1, 0, len(changes) - 1)
    return [changes[i][1] for i in index]


@dataclass(frozen=True)
class ScoreNotes:
    """The notes of an ASAP score MIDI: times in its own seconds, lengths in quarters, staff (0 = upper)."""

    notes: list[Note]
    lengths: list[Fraction]
    staves: list[int]


def read_score_notes(score_midi: Path) -> ScoreNotes:
    """Score notes with their notated lengths; ASAP score MIDIs hold one instrument per staff."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        pm = pretty_midi.PrettyMIDI(str(score_midi))
    notes, lengths, staves = [], [], []
    for staff, inst in enumerate(pm.instruments):
        for n in inst.notes:
            notes.append(Note(n.start, n.end, n.pitch, n.velocity))
            ticks = pm.time_to_tick(n.end) - pm.time_to_tick(n.start)
            lengths.append(Fraction(ticks, pm.resolution).limit_denominator(48))
            staves.append(min(staff, 1))
    return ScoreNotes(notes, lengths, staves)


def match_to_score(
    onsets_in_score_time: np.ndarray, pitches: list[int], sheet_notes: list[Note]
) -> list[int | None]:
    """For each performance note, the index of the unused same-pitch score note nearest in time, if close."""
    by_pitch: dict[int, list[int]] = {}
    for j in sorted(range(len(sheet_notes)), key=lambda j: sheet_notes[j].onset):
        by_pitch.setdefault(sheet_notes[j].pitch, []).append(j)
    times = {p: np.array([sheet_notes[j].onset for j in js]) for p, js in by_pitch.items()}
    used: set[int] = set()
    matches: list[int | None] = []
    for onset, pitch in zip(onsets_in_score_time, pitches, strict=True):
        best = _nearest_unused(times.get(pitch, np.zeros(0)), by_pitch.get(pitch, []), float(onset), used)
        if best is not None:
            used.add(best)
        matches.append(best)
    return matches


def _nearest_unused(times: np.ndarray, indices: list[int], onset: float, used: set[int]) -> int | None:
    """The unused index whose time is nearest `onset` and within the tolerance, scanning out from it."""
    left = int(np.searchsorted(times, onset)) - 1
    right = left + 1
    while left >= 0 and indices[left] in used and onset - times[left] <= MATCH_TOLERANCE_S:
        left -= 1
    while right < len(times) and indices[right] in used and times[right] - onset <= MATCH_TOLERANCE_S:
        right += 1
    options = [(abs(times[k] - onset), indices[k]) for k in (left, right) if 0 <= k < len(times)]
    options = [(d, j) for d, j in options if d <= MATCH_TOLERANCE_S and j not in used]
    return min(options)[1] if options else None


def match_performance(
    notes: list[Note], performance: Annotations, score_annotations: Annotations, score: ScoreNotes
) -> list[int | None]:
    """Score-note index for each performed note: onsets mapped through the two beat lists into score time."""
    n_beats = min(len(performance.beats), len(score_annotations.beats))
    mapped = np.interp(
        [n.onset for n in notes], performance.beats[:n_beats], score_annotations.beats[:n_beats]
    )
    return match_to_score(mapped, [n.pitch for n in notes], score.notes)
