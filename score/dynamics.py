"""Dynamics marks from key velocities: one mark (pp ... ff) at the bars where the playing level changes.

A bar's level is the mean velocity of the notes struck in it; levels are smoothed over three bars so a
single accent does not print a mark, and a mark is printed only where the smoothed level changes.
"""

from __future__ import annotations

import numpy as np

from .notation import BarLines, Notation

# Upper velocity bound of each mark (MIDI velocities of a typical digital piano's curve).
LEVELS = (("pp", 36), ("p", 52), ("mp", 64), ("mf", 78), ("f", 96), ("ff", 128))


def velocity_mark(velocity: float) -> str:
    """The dynamics mark of a mean velocity."""
    return next(mark for mark, bound in LEVELS if velocity < bound)


def bar_dynamics(notation: Notation, bars: BarLines) -> dict[int, str]:
    """Bar index -> mark printed at the start of that bar (the first bar with notes always gets one)."""
    totals, counts = np.zeros(len(bars)), np.zeros(len(bars))
    for chord in notation.chords:
        bar = bars.bar_at(chord.start)
        for i in chord.sources:
            totals[bar] += notation.notes[i].velocity
            counts[bar] += 1
    played = np.flatnonzero(counts)
    if len(played) == 0:
        return {}
    means = totals[played] / counts[played]
    smoothed = [float(np.median(means[max(0, k - 1) : k + 2])) for k in range(len(played))]
    marks, current = {}, None
    for bar, level in zip(played, smoothed, strict=True):
        mark = velocity_mark(level)
        if mark != current:
            marks[int(bar)] = current = mark
    return marks
