"""Chords: the notes a pianist strikes together, the unit in which hands are assigned and beats are read."""

from __future__ import annotations

import numpy as np

from notestream.notes import Note

CHORD_WINDOW_S = 0.035


def group_chords(notes: list[Note]) -> list[list[int]]:
    """Indices of notes struck together (within CHORD_WINDOW_S of the first), each group sorted by pitch."""
    order = sorted(range(len(notes)), key=lambda i: (notes[i].onset, notes[i].pitch))
    groups: list[list[int]] = []
    start = -np.inf
    for i in order:
        if notes[i].onset - start > CHORD_WINDOW_S:
            groups.append([])
            start = notes[i].onset
        groups[-1].append(i)
    return [sorted(g, key=lambda i: notes[i].pitch) for g in groups]
