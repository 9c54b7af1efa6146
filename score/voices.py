"""Two voices within one hand: a note held while the same hand strikes at least two more chords (a bass
note under moving chords, a melody note over an accompaniment) is written in a second voice with its full
length, so the moving notes keep theirs instead of the held note being cut at the next chord.
"""

from __future__ import annotations

from bisect import bisect_right
from fractions import Fraction

HELD_MIN_BEATS = Fraction(1)  # a held note lasts at least this long
HELD_MIN_ONSETS = 2  # ... and past this many later onsets of its hand
TWO_VOICES = False  # off by default: on validation performances it lowers note-value accuracy (RESULTS.md)


def held_notes(
    members: list[int], starts: list[Fraction], ends: list[Fraction],
    min_beats: Fraction = HELD_MIN_BEATS, min_onsets: int = HELD_MIN_ONSETS,
) -> set[int]:
    """The notes of one hand (indices into starts/ends, quantised beat positions) that form its second voice.

    A note qualifies when it is held at least `min_beats` and up to the `min_onsets`-th later onset of the hand;
    the second voice never overlaps itself, so a qualifying chord that starts while an earlier held chord
    still sounds stays in the first voice.
    """
    onsets = sorted({starts[i] for i in members})
    by_start: dict[Fraction, list[int]] = {}
    for i in members:
        by_start.setdefault(starts[i], []).append(i)
    held: set[int] = set()
    busy_until: Fraction | None = None
    for start in onsets:
        later = bisect_right(onsets, start)
        last = later + min_onsets - 1
        if last >= len(onsets) or (busy_until is not None and start < busy_until):
            continue
        chosen = [i for i in by_start[start] if ends[i] >= onsets[last] and ends[i] - start >= min_beats]
        if chosen:
            held.update(chosen)
            busy_until = max(ends[i] for i in chosen)
    return held
