"""The page layout of a Notation in plain fractions: rests filling the gaps, notes cut into written values.

Kept free of any notation library so the MusicXML writer stays fast and these decisions stay testable.
"""

from __future__ import annotations

from fractions import Fraction

from .notation import BarLines, NotatedChord, Notation

EXPRESSIBLE = sorted(
    {Fraction(2) ** -k * m for k in range(-2, 5) for m in (1, Fraction(3, 2))}
    | {Fraction(1, 3), Fraction(2, 3), Fraction(1, 6)},
    reverse=True,
)
TREBLE_FROM = 60  # a staff whose median pitch is at least this gets a treble clef
CLEF_MARGIN = 5  # semitones past middle C a bar's median must go before the clef changes


def split_at_grid(start: Fraction, end: Fraction, beat: Fraction, bars: BarLines) -> list[tuple[Fraction, Fraction]]:
    """(start, length) pieces of [start, end) that each fit one written note value: cut at bar lines, at
    beat boundaries when off the beat, and into expressible values (tied together by the caller)."""
    pieces = []
    while start < end:
        next_bar = bars.next_line(start)
        next_beat = (start // beat + 1) * beat
        stop = min(end, next_bar)
        if start % beat or (stop % beat and stop - start > beat):
            stop = min(stop, next_beat) if start % beat else stop - stop % beat
        span = stop - start
        if span in EXPRESSIBLE:
            length = span
        elif start % beat == 0 and span >= beat:
            length = next(v for v in EXPRESSIBLE if v <= span and v % beat == 0)
        else:
            length = next(v for v in EXPRESSIBLE if v <= span)
        pieces.append((start, length))
        start += length
    return pieces


def staff_events(
    notation: Notation, hand: int, bars: BarLines, voice: int = 0
) -> list[tuple[Fraction, Fraction, NotatedChord | None]]:
    """(start, length, chord or None for a rest) of one voice of one hand, gaps filled with rests from the
    start of the music (a pickup bar's first chord) up to the last bar line."""
    events, cursor = [], notation.pickup_start
    for c in (c for c in notation.chords if c.hand == hand and c.voice == voice):
        if c.start > cursor:
            events.append((cursor, c.start - cursor, None))
        events.append((c.start, c.length, c))
        cursor = c.start + c.length
    if bars.end > cursor:
        events.append((cursor, bars.end - cursor, None))
    return events


def written_pieces(
    notation: Notation, hand: int, bars: BarLines, voice: int = 0
) -> list[tuple[Fraction, Fraction, NotatedChord | None, str | None]]:
    """(start, written length, chord or None, tie 'start' / 'continue' / 'stop' or None) of one voice of
    one staff."""
    beat = Fraction(notation.meter.beat_quarter_length)
    out = []
    for start, length, c in staff_events(notation, hand, bars, voice):
        pieces = split_at_grid(start, start + length, beat, bars)
        for i, (piece_start, piece_length) in enumerate(pieces):
            tie = None
            if c is not None and len(pieces) > 1:
                tie = "start" if i == 0 else "stop" if i == len(pieces) - 1 else "continue"
            out.append((piece_start, piece_length, c, tie))
    return out


def staff_clefs(notation: Notation, hand: int, bars: BarLines) -> list[bool]:
    """Per bar, whether a hand's staff reads in treble clef.

    The right hand starts in treble and the left in bass; a staff changes clef only when a bar's median
    pitch goes well past middle C (CLEF_MARGIN semitones), so a line that hovers around C4 keeps one.
    """
    by_bar: list[list[int]] = [[] for _ in range(len(bars))]
    for c in notation.chords:
        if c.hand == hand:
            by_bar[bars.bar_at(c.start)] += list(c.pitches)
    treble = hand == 1
    clefs = []
    for pitches in by_bar:
        if pitches:
            median = sorted(pitches)[len(pitches) // 2]
            if treble and median < TREBLE_FROM - CLEF_MARGIN:
                treble = False
            elif not treble and median >= TREBLE_FROM + CLEF_MARGIN:
                treble = True
        clefs.append(treble)
    return clefs
