"""Quantisation of onsets and offsets to the beat grid, choosing a subdivision per beat.

Each beat is divided by the candidate grid (16ths or triplet 8ths in simple time; 8ths or 16ths in
compound time) that puts its onsets closest to grid points, with a small bias toward the plainer grid so
that sloppy duplets are not written as triplets.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from .meter import grid_errors

# Grids per beat length (quarters): the first is preferred on ties; a triplet grid only where a beat of
# one quarter or a half can divide in three (a compound beat's three parts are its plain grid).
DIVISIONS = {0.5: (2,), 0.75: (3,), 1.0: (4, 3), 1.5: (6,), 2.0: (8, 6), 3.0: (12,)}
TRIPLET_BIAS_BEATS = 0.03  # per onset, in beats


def choose_divisions(onset_positions: np.ndarray, n_beats: int, beat_quarters: float) -> list[int]:
    """Grid division for each beat, chosen by total quantisation error of the onsets in that beat."""
    options = DIVISIONS[beat_quarters]
    divisions = [options[0]] * (n_beats + 1)
    if len(options) == 1 or len(onset_positions) == 0:
        return divisions
    beats = np.floor(onset_positions).astype(int)
    fractions = onset_positions - beats
    for beat in np.unique(beats):
        inner = fractions[beats == beat]
        costs = [
            grid_errors(inner, d) + (TRIPLET_BIAS_BEATS * len(inner) if i else 0.0)
            for i, d in enumerate(options)
        ]
        if 0 <= beat <= n_beats:
            divisions[beat] = options[int(np.argmin(costs))]
    return divisions


def quantize_position(position: float, divisions: list[int]) -> Fraction:
    """Fractional beat index -> nearest point on its beat's grid, as an exact fraction of beats."""
    beat = int(np.floor(position))
    division = divisions[min(max(beat, 0), len(divisions) - 1)]
    return Fraction(beat) + Fraction(round((position - beat) * division), division)


def grid_step(position: Fraction, divisions: list[int]) -> Fraction:
    """The smallest grid step at a quantised position (one 16th, one triplet 8th, ...)."""
    beat = int(np.floor(position))
    return Fraction(1, divisions[min(max(beat, 0), len(divisions) - 1)])
