"""Notes, pedal spans and note events: the types every part of notestream speaks."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Literal

MIN_PITCH = 21  # A0
MAX_PITCH = 108  # C8
N_KEYS = MAX_PITCH - MIN_PITCH + 1
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

EventKind = Literal["note_on", "note_off", "pedal_on", "pedal_off"]


@dataclass(frozen=True, order=True)
class Note:
    """One played note: times in seconds, MIDI pitch, MIDI velocity (1-127)."""

    onset: float
    offset: float
    pitch: int
    velocity: int = 64

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True, order=True)
class PedalSpan:
    """The sustain pedal held down from `onset` to `offset` (seconds)."""

    onset: float
    offset: float


@dataclass(frozen=True)
class NoteEvent:
    """A decided event in a stream: a key or the sustain pedal going down or up."""

    kind: EventKind
    time: float
    pitch: int | None = None
    velocity: int = 0

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class Performance:
    """Notes plus sustain-pedal spans: what a MIDI file or a transcription holds."""

    notes: list[Note] = field(default_factory=list)
    pedals: list[PedalSpan] = field(default_factory=list)

    @property
    def duration(self) -> float:
        ends = [n.offset for n in self.notes] + [p.offset for p in self.pedals]
        return max(ends, default=0.0)


def note_name(pitch: int) -> str:
    """MIDI pitch -> scientific name, e.g. 60 -> 'C4'."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"


def notes_to_events(notes: list[Note], pedals: list[PedalSpan] | None = None) -> list[NoteEvent]:
    """Time-ordered events; at equal times offs come before ons so a re-struck key reads correctly."""
    events = [NoteEvent("note_on", n.onset, n.pitch, n.velocity) for n in notes]
    events += [NoteEvent("note_off", n.offset, n.pitch, 0) for n in notes]
    for p in pedals or []:
        events += [NoteEvent("pedal_on", p.onset, None, 127), NoteEvent("pedal_off", p.offset, None, 0)]
    order = {"note_off": 0, "pedal_off": 1, "pedal_on": 2, "note_on": 3}
    return sorted(events, key=lambda e: (e.time, order[e.kind], e.pitch or 0))


def events_to_performance(events: list[NoteEvent], end_time: float | None = None) -> Performance:
    """Pair note_on/note_off and pedal_on/pedal_off events (in the order they were decided) back into
    notes and pedal spans: the inverse of `notes_to_events`, used by the server, the clients and tests.

    A note_on for a key already down closes the earlier note there, as a re-struck key does; a second
    pedal_on while the pedal is down changes nothing. Notes and pedal still down at the end close at
    `end_time` (default: the last event's time).
    """
    end = end_time if end_time is not None else max((e.time for e in events), default=0.0)
    open_notes: dict[int, NoteEvent] = {}
    pedal_down: float | None = None
    notes: list[Note] = []
    pedals: list[PedalSpan] = []
    for event in events:
        if event.kind in ("note_on", "note_off") and event.pitch is not None:
            started = open_notes.pop(event.pitch, None)
            if started is not None:
                notes.append(Note(started.time, max(event.time, started.time), event.pitch, started.velocity))
            if event.kind == "note_on":
                open_notes[event.pitch] = event
        elif event.kind == "pedal_on" and pedal_down is None:
            pedal_down = event.time
        elif event.kind == "pedal_off" and pedal_down is not None:
            pedals.append(PedalSpan(pedal_down, max(event.time, pedal_down)))
            pedal_down = None
    notes += [Note(e.time, max(end, e.time), pitch, e.velocity) for pitch, e in open_notes.items()]
    if pedal_down is not None:
        pedals.append(PedalSpan(pedal_down, max(end, pedal_down)))
    return Performance(sorted(notes), sorted(pedals))


def extend_with_pedal(notes: list[Note], pedals: list[PedalSpan]) -> list[Note]:
    """The evaluation rule for the sustain pedal.

    A note still sounding when the pedal is down lasts until the pedal is released, or until the same
    key is struck again, whichever comes first.
    """
    ordered = sorted(notes, key=_note_key)
    if not pedals:
        return ordered
    holding = _pedal_finder(sorted(pedals))
    by_pitch: dict[int, list[Note]] = {}
    for n in ordered:
        by_pitch.setdefault(n.pitch, []).append(n)
    out: list[Note] = []
    for pitch_notes in by_pitch.values():
        for i, n in enumerate(pitch_notes):
            span = holding(n.offset)
            offset = n.offset if span is None else max(n.offset, span.offset)
            if i + 1 < len(pitch_notes):
                offset = min(offset, max(n.offset, pitch_notes[i + 1].onset))
            out.append(Note(n.onset, offset, n.pitch, n.velocity))
    return sorted(out, key=_note_key)


def _note_key(n: Note) -> tuple[float, float, int, int]:
    """The dataclass order of Note as a tuple: sorting by it is the same order, several times faster."""
    return n.onset, n.offset, n.pitch, n.velocity


def _pedal_finder(spans: list[PedalSpan]) -> Callable[[float], PedalSpan | None]:
    """time -> the first of the sorted `spans` holding it (onset <= time < offset), or None.

    Spans that follow one another without overlap (as a MIDI sustain controller gives them) are searched by
    bisection, since a long performance asks this for each of thousands of notes; overlapping ones by a scan."""
    if all(a.offset <= b.onset for a, b in pairwise(spans)):
        onsets = [s.onset for s in spans]

        def find_disjoint(time: float) -> PedalSpan | None:
            i = bisect_right(onsets, time) - 1
            return spans[i] if i >= 0 and time < spans[i].offset else None
        return find_disjoint

    def find_any(time: float) -> PedalSpan | None:
        return next((s for s in spans if s.onset <= time < s.offset), None)
    return find_any
