"""Metre: the time signatures a score can show, how each counts its beats, and positions on the beat grid.

The time signature and the downbeats themselves come from the rhythm network (rhythm_decoding), unless the
user tells the sheet the piece's tempo or time signature (`RhythmHint`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Each time signature's beats per bar and beat length in quarters, as ASAP annotates beats: compound
# metres count dotted quarters (6/4 dotted halves, 12/16 dotted eighths), 3/8, 4/8 and 5/8 count eighths,
# 2/2, 3/2 and 4/2 count halves.
# The rhythm network names the first eight (rhythm_net.TIME_SIGNATURES); the rest a user may give (RhythmHint).
BEAT_SHAPES = {
    "2/4": (2, 1.0), "3/4": (3, 1.0), "4/4": (4, 1.0), "2/2": (2, 2.0),
    "3/8": (3, 0.5), "6/8": (2, 1.5), "9/8": (3, 1.5), "12/8": (4, 1.5),
    "5/4": (5, 1.0), "3/2": (3, 2.0), "4/2": (4, 2.0), "6/4": (2, 3.0),
    "4/8": (4, 0.5), "5/8": (5, 0.5), "12/16": (4, 0.75),
}


def beat_quarters(signature: str) -> float:
    """Length of a beat in quarter notes, as ASAP counts beats: BEAT_SHAPES, else three of the denominator's
    note where they group in threes (15/8: a dotted quarter, 12/16: a dotted eighth), else the denominator's
    note (7/8: an eighth)."""
    if signature in BEAT_SHAPES:
        return BEAT_SHAPES[signature][1]
    top, bottom = (int(x) for x in signature.split("/"))
    return (3 if top % 3 == 0 and top > 3 else 1) * 4.0 / bottom


TEMPO_RANGE_BPM = (10.0, 400.0)


@dataclass(frozen=True)
class RhythmHint:
    """What a user tells the sheet of a piece: its tempo in beats per minute, counting the beat its time
    signature counts (a quarter in 4/4, a dotted quarter in 6/8, an eighth in 3/8, a half in 2/2), and its
    time signature. A part left None is the rhythm network's to decide.
    """

    tempo_bpm: float | None = None
    time_signature: str | None = None

    def __post_init__(self) -> None:
        low, high = TEMPO_RANGE_BPM
        if self.tempo_bpm is not None and not low <= self.tempo_bpm <= high:
            raise ValueError(f"tempo {self.tempo_bpm:g}: give beats per minute from {low:g} to {high:g}")
        if self.time_signature is not None and self.time_signature not in BEAT_SHAPES:
            raise ValueError(f"time signature {self.time_signature!r}: not one of {', '.join(BEAT_SHAPES)}")

    @classmethod
    def from_text(cls, tempo: str | None = None, time_signature: str | None = None) -> RhythmHint:
        """From what a user typed ('72', '6/8'); empty or 'auto' leaves that part to the network."""
        def given(text: str | None) -> str | None:
            text = (text or "").strip()
            return None if text.lower() in ("", "auto") else text

        tempo, time_signature = given(tempo), given(time_signature)
        try:
            bpm = None if tempo is None else float(tempo)
        except ValueError:
            raise ValueError(f"tempo {tempo!r}: give beats per minute, a number such as 72") from None
        return cls(bpm, time_signature)

    @property
    def beat_period(self) -> float | None:
        """Seconds per beat, when a tempo is given."""
        return None if self.tempo_bpm is None else 60.0 / self.tempo_bpm

    def __bool__(self) -> bool:
        return self.tempo_bpm is not None or self.time_signature is not None


@dataclass(frozen=True)
class Meter:
    """A time signature ('6/8', one of BEAT_SHAPES), the index of the first downbeat among the beats, and
    later changes of metre: (index of the beat whose bar starts the new signature, signature), in order.

    A change keeps the beat's length (2/4, 3/4, 4/4 and 5/4 count quarters; 6/8, 9/8, 12/8 dotted quarters), so
    a beat is the same number of quarters all through the piece.
    """

    time_signature: str
    first_downbeat: int
    changes: tuple[tuple[int, str], ...] = ()

    def __post_init__(self) -> None:
        for signature in (self.time_signature, *(s for _, s in self.changes)):
            if signature not in BEAT_SHAPES:
                raise ValueError(f"time signature {signature!r}: not one of {', '.join(BEAT_SHAPES)}")
            if BEAT_SHAPES[signature][1] != self.beat_quarter_length:
                raise ValueError(f"a change to {signature} would change the beat of {self.time_signature}")

    def signature_at(self, beat: int) -> str:
        """The time signature in force at a beat index."""
        current = self.time_signature
        for start, signature in self.changes:
            if beat >= start:
                current = signature
        return current

    def bar_starts(self, origin: int, stop: int) -> list[tuple[int, str]]:
        """(beat index, time signature) of each bar from the one starting at beat `origin` (a downbeat or a
        whole bar before the first) until the first bar starting at or after beat `stop`."""
        bars, beat = [], origin
        while True:
            signature = self.signature_at(beat)
            bars.append((beat, signature))
            if beat >= stop:
                return bars
            beat += BEAT_SHAPES[signature][0]

    @property
    def beats_per_bar(self) -> int:
        return BEAT_SHAPES[self.time_signature][0]

    @property
    def beat_quarter_length(self) -> float:
        """Length of one beat in quarter notes: a dotted quarter in compound time."""
        return BEAT_SHAPES[self.time_signature][1]

    @property
    def compound(self) -> bool:
        """True when each beat divides in three (6/8, 9/8, 12/8, 6/4, 12/16)."""
        return self.beat_quarter_length in (0.75, 1.5, 3.0)

    @property
    def numerator_denominator(self) -> tuple[int, int]:
        top, bottom = self.time_signature.split("/")
        return int(top), int(bottom)


def beat_positions(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """Times in seconds -> fractional beat indices, linear between tracked beats."""
    return np.interp(times, beats, np.arange(len(beats), dtype=float))


def grid_errors(fractions: np.ndarray, division: int) -> float:
    """Total distance (in beats) of in-beat fractions from the nearest 1/division grid point."""
    scaled = fractions * division
    return float(np.abs(scaled - np.round(scaled)).sum() / division)
