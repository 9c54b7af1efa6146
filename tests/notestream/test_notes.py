"""Notes, events and the sustain-pedal rule, checked on hand-made cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notestream.notes import (
    MAX_PITCH,
    MIN_PITCH,
    N_KEYS,
    Note,
    NoteEvent,
    PedalSpan,
    Performance,
    extend_with_pedal,
    note_name,
    notes_to_events,
)


def test_the_piano_has_88_keys_from_a0_to_c8() -> None:
    assert N_KEYS == 88
    assert note_name(MIN_PITCH) == "A0"
    assert note_name(MAX_PITCH) == "C8"


@pytest.mark.parametrize(("pitch", "name"), [(60, "C4"), (61, "C#4"), (69, "A4"), (59, "B3"), (24, "C1")])
def test_note_names_are_scientific_pitch_notation(pitch: int, name: str) -> None:
    assert note_name(pitch) == name


def test_performance_duration_is_the_last_note_or_pedal_release() -> None:
    assert Performance().duration == 0.0
    assert Performance([Note(0, 1.5, 60)], []).duration == 1.5
    assert Performance([Note(0, 1.5, 60)], [PedalSpan(1.0, 2.5)]).duration == 2.5


def test_events_are_time_ordered_and_a_restruck_key_releases_before_it_sounds_again() -> None:
    events = notes_to_events([Note(0.5, 1.0, 60, 90), Note(0.0, 0.5, 60, 70)], [PedalSpan(0.2, 0.8)])
    assert events == [
        NoteEvent("note_on", 0.0, 60, 70),
        NoteEvent("pedal_on", 0.2, None, 127),
        NoteEvent("note_off", 0.5, 60, 0),
        NoteEvent("note_on", 0.5, 60, 90),
        NoteEvent("pedal_off", 0.8, None, 0),
        NoteEvent("note_off", 1.0, 60, 0),
    ]


def test_event_dicts_leave_out_the_pitch_of_pedal_events() -> None:
    assert NoteEvent("pedal_on", 1.0, None, 127).to_dict() == {"kind": "pedal_on", "time": 1.0, "velocity": 127}
    assert NoteEvent("note_on", 1.0, 60, 80).to_dict() == {"kind": "note_on", "time": 1.0, "pitch": 60, "velocity": 80}


# Each case: (notes, pedals, expected notes after the pedal rule), worked out by hand.
PEDAL_CASES = {
    "released before the pedal goes down: unchanged": (
        [Note(0.0, 0.5, 60, 80)], [PedalSpan(1.0, 2.0)], [Note(0.0, 0.5, 60, 80)],
    ),
    "sounding when the pedal goes down: lasts until the pedal is released": (
        [Note(0.0, 1.5, 60, 80)], [PedalSpan(1.0, 2.0)], [Note(0.0, 2.0, 60, 80)],
    ),
    "struck and released while the pedal is down: lasts until the release": (
        [Note(1.2, 1.4, 64, 50)], [PedalSpan(1.0, 2.0)], [Note(1.2, 2.0, 64, 50)],
    ),
    "held past the pedal release: its own offset stays": (
        [Note(0.0, 3.0, 60, 80)], [PedalSpan(1.0, 2.0)], [Note(0.0, 3.0, 60, 80)],
    ),
    "same key struck again under the pedal: the first ends at the new strike": (
        [Note(0.0, 1.2, 60, 80), Note(1.5, 1.7, 60, 90)],
        [PedalSpan(1.0, 3.0)],
        [Note(0.0, 1.5, 60, 80), Note(1.5, 3.0, 60, 90)],
    ),
    "another key struck under the pedal does not cut it": (
        [Note(0.0, 1.2, 60, 80), Note(1.5, 1.7, 62, 90)],
        [PedalSpan(1.0, 3.0)],
        [Note(0.0, 3.0, 60, 80), Note(1.5, 3.0, 62, 90)],
    ),
    "same key struck again after the pedal release: the release comes first": (
        [Note(0.0, 1.2, 60, 80), Note(2.5, 2.7, 60, 90)],
        [PedalSpan(1.0, 2.0)],
        [Note(0.0, 2.0, 60, 80), Note(2.5, 2.7, 60, 90)],
    ),
    "released in the first of two pedal spans: ends at the first release": (
        [Note(0.0, 1.5, 60, 80)],
        [PedalSpan(1.0, 2.0), PedalSpan(2.0, 4.0)],
        [Note(0.0, 2.0, 60, 80)],
    ),
    "released between two pedal spans: not extended": (
        [Note(0.0, 2.5, 60, 80)],
        [PedalSpan(1.0, 2.0), PedalSpan(3.0, 4.0)],
        [Note(0.0, 2.5, 60, 80)],
    ),
    "no pedal: notes are only sorted": (
        [Note(1.0, 2.0, 62, 80), Note(0.0, 1.0, 60, 80)], [], [Note(0.0, 1.0, 60, 80), Note(1.0, 2.0, 62, 80)],
    ),
}


@pytest.mark.parametrize("case", list(PEDAL_CASES))
def test_pedal_rule(case: str) -> None:
    notes, pedals, expected = PEDAL_CASES[case]
    assert extend_with_pedal(notes, pedals) == expected


def test_pedal_rule_never_shortens_a_note() -> None:
    notes = [Note(0.0, 1.2, 60, 80), Note(1.0, 1.7, 60, 90), Note(0.3, 0.4, 72, 40)]
    extended = extend_with_pedal(notes, [PedalSpan(0.35, 3.0)])
    for before, after in zip(sorted(notes), extended, strict=True):
        assert (after.onset, after.pitch, after.velocity) == (before.onset, before.pitch, before.velocity)
        assert after.offset >= before.offset


def _pedal_rule_by_scan(notes: list[Note], pedals: list[PedalSpan]) -> list[Note]:
    """The rule as its docstring states it, note by note over every span, for comparison."""
    out = []
    ordered = sorted(notes)
    for i, n in enumerate(ordered):
        offset = n.offset
        holding = [s for s in sorted(pedals) if s.onset <= n.offset < s.offset]
        if holding:
            offset = max(offset, holding[0].offset)
        later = [m.onset for m in ordered[i + 1:] if m.pitch == n.pitch]
        if later:
            offset = min(offset, max(n.offset, later[0]))
        out.append(Note(n.onset, offset, n.pitch, n.velocity))
    return sorted(out)


_times = st.integers(0, 40).map(lambda k: k / 4)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_times, _times, st.integers(60, 62)), max_size=12),
       st.lists(st.tuples(_times, _times), max_size=5))
def test_pedal_rule_matches_a_scan_over_every_span_disjoint_or_overlapping(raw_notes, raw_pedals) -> None:
    notes = [Note(a, a + d, p, 64) for a, d, p in raw_notes]
    pedals = [PedalSpan(a, a + d) for a, d in raw_pedals]
    assert extend_with_pedal(notes, pedals) == _pedal_rule_by_scan(notes, pedals)
