"""Which hand plays each note: a dynamic-programming split of every chord into left and right hand.

Simultaneous notes (a chord) are split at one pitch: those below go to the left hand. The split is the
cheapest path through the piece where a hand stretching past a tenth, a hand jumping far from where it
last played, and a hand far into the other's register all cost; so a scale crossing middle C stays in one
hand and the left hand can climb into the treble when the music takes it there.
"""

from __future__ import annotations

import numpy as np

from notestream.notes import Note

CHORD_WINDOW_S = 0.035
COMFORT_SPAN = 14  # semitones one hand reaches without strain (a major ninth)
SPAN_COST = 3.0  # per semitone beyond COMFORT_SPAN
CROWD_COST = 10.0  # per note beyond five in one hand
MOVE_COST = 0.25  # per semitone a hand's centre moves
EMPTY_HAND_COST = 1.0  # a hand sitting out while the other plays several notes
REGISTER_COST = 0.15  # per semitone a hand plays inside the other's home register
LEFT_HOME, RIGHT_HOME = 50, 71  # D3 and B4: where each hand is assumed to start
LEFT_CEILING, RIGHT_FLOOR = 64, 55


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


def _static_costs(pitches: np.ndarray) -> np.ndarray:
    """Cost of each split k (k lowest notes to the left hand) that does not depend on the past."""
    n = len(pitches)
    costs = np.zeros(n + 1)
    for k in range(n + 1):
        left, right = pitches[:k], pitches[k:]
        for hand in (left, right):
            if len(hand):
                costs[k] += SPAN_COST * max(0, hand[-1] - hand[0] - COMFORT_SPAN)
                costs[k] += CROWD_COST * max(0, len(hand) - 5)
        costs[k] += REGISTER_COST * (
            np.maximum(0, left - LEFT_CEILING).sum() + np.maximum(0, RIGHT_FLOOR - right).sum()
        )
        if n >= 3 and k in (0, n):
            costs[k] += EMPTY_HAND_COST
    return costs


def assign_hands(notes: list[Note]) -> list[int]:
    """Hand of each note, 0 = left, 1 = right, in the order of `notes`."""
    if not notes:
        return []
    groups = group_chords(notes)
    # Per state: accumulated cost, left and right hand centres, back-pointer.
    acc = np.zeros(1)
    centres = np.array([[LEFT_HOME, RIGHT_HOME]], dtype=float)
    backs: list[np.ndarray] = []
    for group in groups:
        pitches = np.array([notes[i].pitch for i in group], dtype=float)
        n = len(pitches)
        static = _static_costs(pitches)
        new_acc, new_centres, back = np.empty(n + 1), np.empty((n + 1, 2)), np.empty(n + 1, int)
        for k in range(n + 1):
            left = pitches[:k].mean() if k else None
            right = pitches[k:].mean() if k < n else None
            move = np.zeros(len(acc))
            if left is not None:
                move += np.abs(centres[:, 0] - left)
            if right is not None:
                move += np.abs(centres[:, 1] - right)
            total = acc + MOVE_COST * move
            j = int(np.argmin(total))
            new_acc[k], back[k] = total[j] + static[k], j
            new_centres[k] = [
                left if left is not None else centres[j, 0],
                right if right is not None else centres[j, 1],
            ]
        acc, centres = new_acc, new_centres
        backs.append(back)
    hands = [0] * len(notes)
    k = int(np.argmin(acc))
    for group, back in zip(reversed(groups), reversed(backs), strict=True):
        for rank, i in enumerate(group):
            hands[i] = 0 if rank < k else 1
        k = int(back[k])
    return hands
