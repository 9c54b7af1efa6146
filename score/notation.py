"""From performed notes to a notation plan: beats, meter, key, hands and quantised note values.

This is the musical half of engraving, kept free of music21 so it can be measured and tested directly:
every kept note gets a hand, a quantised start and a notated length in quarter notes. Durations are the
key-held ones (a pedal's sustain is shown as a pedal mark, not as longer notes), capped at the next onset
in the same voice: each hand reads as one voice of chords and rests, or, with `voices`, two where it holds
notes while it moves on (voices.py).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from notestream.notes import Note, PedalSpan

from .cleaning import drop_spurious_notes
from .key import NO_NOTES_KEY, KeyEstimate
from .meter import Meter, RhythmHint, beat_positions
from .quantize import choose_divisions, grid_step, quantize_position
from .rhythm_decoding import BEAT_SOURCE, METER_CHANGES, analyse_rhythm, decode_key, shipped_rhythm_net
from .rhythm_net import RhythmModel, predict_rhythm
from .voices import TWO_VOICES, held_notes

# A note held for at least this share of the gap to the next onset is written legato (no rest between).
LEGATO_SHARE = Fraction(1, 2)


@dataclass(frozen=True)
class NotatedChord:
    """Notes one hand strikes together, with a start and a length in quarter notes from the first bar line."""

    hand: int  # 0 = left (lower staff), 1 = right (upper staff)
    start: Fraction
    length: Fraction
    pitches: tuple[int, ...]
    sources: tuple[int, ...]  # indices into Notation.notes
    voice: int = 0  # 0: the hand's main voice; 1: notes it holds under or over moving ones (voices.py)


@dataclass(frozen=True)
class BarLines:
    """The bars of a score in quarters from the first bar's start: where each begins, its time signature,
    and where the last one ends."""

    starts: tuple[Fraction, ...]
    signatures: tuple[str, ...]
    end: Fraction

    def __len__(self) -> int:
        return len(self.starts)

    def bar_at(self, position: Fraction) -> int:
        """Index of the bar holding a position (the first or last bar for positions outside)."""
        return min(max(bisect_right(self.starts, position) - 1, 0), len(self.starts) - 1)

    def length(self, bar: int) -> Fraction:
        return (self.starts[bar + 1] if bar + 1 < len(self.starts) else self.end) - self.starts[bar]

    def next_line(self, position: Fraction) -> Fraction:
        """The first bar line after a position (the score's end for positions in the last bar)."""
        bar = self.bar_at(position)
        return self.starts[bar] + self.length(bar)


@dataclass
class Notation:
    """Everything needed to lay out a two-staff score."""

    notes: list[Note]  # the notes kept after dropping spurious ones
    beats: np.ndarray  # beat times in seconds
    meter: Meter
    key: KeyEstimate
    chords: list[NotatedChord] = field(default_factory=list)
    pedals: list[tuple[Fraction, Fraction]] = field(default_factory=list)  # quantised (start, end) quarters
    origin_beat: int = 0  # the beat index where bar 1 begins (negative when the piece starts with a pickup)
    tempo_bpm: float | None = None  # the user's tempo; None: the played one (metronome_bpm)

    @property
    def bar_length(self) -> Fraction:
        return Fraction(self.meter.beats_per_bar) * Fraction(self.meter.beat_quarter_length)

    @property
    def pickup_start(self) -> Fraction:
        """Where the music of a pickup (anacrusis) bar begins, in quarters; 0 when bar 1 is a full bar.

        The first bar is written short, from its first chord, instead of opening with a bar of rests.
        """
        if self.origin_beat >= 0 or not self.chords:
            return Fraction(0)
        first = min(c.start for c in self.chords)
        return first if 0 < first < self.bar_length else Fraction(0)

    def metronome_bpm(self) -> float:
        """Beats per minute of the metronome mark: the user's tempo, else the median beat interval of the beats
        the notes span."""
        if self.tempo_bpm is not None:
            return self.tempo_bpm
        onsets = [n.onset for n in self.notes]
        inside = self.beats[(self.beats >= min(onsets, default=0.0)) & (self.beats <= max(onsets, default=0.0))]
        intervals = np.diff(inside if len(inside) > 2 else self.beats)
        return 60.0 / float(np.median(intervals)) if len(intervals) else 120.0

    def beat_to_quarters(self, beat: Fraction) -> Fraction:
        return (beat - self.origin_beat) * Fraction(self.meter.beat_quarter_length)

    def downbeat_times(self) -> np.ndarray:
        starts = self.meter.bar_starts(self.origin_beat, len(self.beats))
        return self.beats[[b for b, _ in starts if 0 <= b < len(self.beats)]]

    def bar_lines(self) -> BarLines:
        """Bars from the first (a pickup bar when origin_beat < 0) to the one holding the end of the last chord."""
        end = max((c.start + c.length for c in self.chords), default=Fraction(0))
        per_beat = Fraction(self.meter.beat_quarter_length)
        stop = self.origin_beat + max(1, -(-end // per_beat))
        bars = self.meter.bar_starts(self.origin_beat, stop)
        quarters = tuple(self.beat_to_quarters(Fraction(b)) for b, _ in bars)
        return BarLines(quarters[:-1], tuple(s for _, s in bars[:-1]), quarters[-1])

    def signature_times(self) -> tuple[tuple[float, str], ...]:
        """(seconds, time signature) where each metre starts: the opening one, then each change."""
        opening = ((float(self.beats[0]) if len(self.beats) else 0.0, self.meter.time_signature),)
        return opening + tuple((float(self.beats[b]), s) for b, s in self.meter.changes if b < len(self.beats))

    def note_lengths(self) -> dict[int, Fraction]:
        """Notated length (quarters) of each kept note, by index into `notes`."""
        return {i: chord.length for chord in self.chords for i in chord.sources}


def notate(
    notes: list[Note], pedals: list[PedalSpan] | None = None, meter_changes: bool = METER_CHANGES,
    voices: bool = TWO_VOICES, net: RhythmModel | None = None, beat_source: float | None = BEAT_SOURCE,
    hint: RhythmHint | None = None,
) -> Notation:
    """Analyse and quantise a performance; an empty or all-spurious one gives a Notation with no chords.

    `meter_changes`: write changes of metre where the rhythm network hears them (rhythm_decoding).
    `voices`: a note a hand holds while it strikes on goes to a second voice of that hand (voices.py).
    `net`, `beat_source`: another rhythm network than the shipped one, and where beats come from
    (analyse_rhythm), for choosing them on validation works.
    `hint`: the tempo and/or time signature the user gives (analyse_rhythm).
    """
    kept = drop_spurious_notes(notes)
    if not kept:
        signature = hint.time_signature if hint and hint.time_signature else "4/4"
        return Notation([], np.array([0.0, 0.5]), Meter(signature, 0), NO_NOTES_KEY)
    rhythm = analyse_rhythm(kept, net, meter_changes, beat_source, hint)
    beats, meter, hands = rhythm.beats, rhythm.meter, rhythm.hands
    origin = meter.first_downbeat - meter.beats_per_bar if meter.first_downbeat > 0 else 0
    notation = Notation(kept, beats, meter, rhythm.key, origin_beat=origin, tempo_bpm=hint.tempo_bpm if hint else None)
    onset_pos = beat_positions(np.array([n.onset for n in kept]), beats)
    offset_pos = beat_positions(np.array([n.offset for n in kept]), beats)
    divisions = choose_divisions(onset_pos, len(beats), meter.beat_quarter_length)
    starts = [quantize_position(p, divisions) for p in onset_pos]
    ends = [quantize_position(p, divisions) for p in offset_pos]
    for hand in (0, 1):
        members = [i for i in range(len(kept)) if hands[i] == hand]
        held = held_notes(members, starts, ends) if voices else set()
        for voice, chosen in enumerate(([i for i in members if i not in held], sorted(held))):
            notation.chords += _hand_chords(notation, (hand, voice), chosen, starts, ends, divisions)
    notation.chords.sort(key=lambda c: (c.start, c.hand))
    notation.pedals = _quantised_pedals(notation, pedals or [], divisions)
    return notation


def sheet_key(notes: list[Note]) -> KeyEstimate:
    """The key signature `notate` writes for these notes: note names printed elsewhere (the note list, the
    JSON) are spelled in it, so they agree with the sheet (Eb4 in E-flat major)."""
    kept = drop_spurious_notes(notes)
    return decode_key(kept, predict_rhythm(shipped_rhythm_net(), kept)) if kept else NO_NOTES_KEY


def _hand_chords(
    notation: Notation,
    hand_voice: tuple[int, int],
    members: list[int],
    starts: list[Fraction],
    ends: list[Fraction],
    divisions: list[int],
) -> list[NotatedChord]:
    """One voice of chords of one hand: each lasts as long as its longest key is held, up to the voice's
    next onset."""
    by_start: dict[Fraction, list[int]] = {}
    for i in members:
        by_start.setdefault(starts[i], []).append(i)
    onsets = sorted(by_start)
    chords = []
    for k, start in enumerate(onsets):
        group = by_start[start]
        end = max(max(ends[i] for i in group), start + grid_step(start, divisions))
        if k + 1 < len(onsets):
            following = onsets[k + 1]
            if end >= following or (end - start) >= LEGATO_SHARE * (following - start):
                end = following
        pitches = tuple(sorted({notation.notes[i].pitch for i in group}))
        length = notation.beat_to_quarters(end) - notation.beat_to_quarters(start)
        start_q = notation.beat_to_quarters(start)
        chords.append(NotatedChord(hand_voice[0], start_q, length, pitches, tuple(group), hand_voice[1]))
    return chords


def _quantised_pedals(
    notation: Notation, pedals: list[PedalSpan], divisions: list[int]
) -> list[tuple[Fraction, Fraction]]:
    """One (start, end) span in quarters per pedal press, none overlapping and none empty.

    Quantising can make a release and the next press land on the same grid point or cross; the earlier
    span then ends where the next begins, so each press reads as one bracket.
    """
    spans: list[tuple[Fraction, Fraction]] = []
    for pedal in sorted(pedals):
        start, end = beat_positions(np.array([pedal.onset, pedal.offset]), notation.beats)
        q_start = notation.beat_to_quarters(quantize_position(float(start), divisions))
        q_end = notation.beat_to_quarters(quantize_position(float(end), divisions))
        if q_end <= q_start:
            continue
        if spans and q_start <= spans[-1][0]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], q_end))
            continue
        if spans and q_start < spans[-1][1]:
            spans[-1] = (spans[-1][0], q_start)
        spans.append((q_start, q_end))
    return spans
