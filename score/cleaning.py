"""Notes worth notating: spurious blips dropped before any analysis.

A transcriber (or a brushed key) produces notes a few tens of milliseconds long or barely audible; on the
page they become thickets of 64th notes, so they are removed before beats, key and hands are estimated.
"""

from __future__ import annotations

from notestream.notes import Note

MIN_DURATION_S = 0.04
MIN_VELOCITY = 8


def drop_spurious_notes(
    notes: list[Note], min_duration: float = MIN_DURATION_S, min_velocity: int = MIN_VELOCITY
) -> list[Note]:
    """Notes at least `min_duration` seconds long and at least `min_velocity` loud, sorted by onset."""
    return sorted(n for n in notes if n.offset - n.onset >= min_duration and n.velocity >= min_velocity)
