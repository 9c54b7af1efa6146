"""The MusicXML writer: what a MusicXML reader (and so Verovio) must find in the document."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np

from notestream.notes import Note, PedalSpan
from notestream.score.key import KeyEstimate
from notestream.score.meter import Meter
from notestream.score.musicxml import notation_to_musicxml, note_value, signature_alters
from notestream.score.notation import NotatedChord, Notation, notate

BEAT = 0.5


def notation_of(chords: list[NotatedChord], fifths: int = 0, pedals=None) -> Notation:
    """A hand-made 4/4 Notation, so the writer is tested apart from the analysis."""
    notation = Notation([], np.arange(16.0), Meter("4/4", 0), KeyEstimate(0, "major", fifths))
    notation.chords = chords
    notation.pedals = pedals or []
    return notation


def test_written_lengths_name_their_note_type_dots_and_triplets():
    assert note_value(Fraction(1)) == ("quarter", 0, False)
    assert note_value(Fraction(3, 4)) == ("eighth", 1, False)
    assert note_value(Fraction(1, 3)) == ("eighth", 0, True)
    assert note_value(Fraction(6)) == ("whole", 1, False)


def test_key_signatures_alter_steps_in_the_order_of_fifths():
    assert signature_alters(2) == {"F": 1, "C": 1}
    assert signature_alters(-3) == {"B": -1, "E": -1, "A": -1}
    assert signature_alters(0) == {}


def test_bars_hold_both_staves_and_fill_gaps_with_rests():
    chords = [
        NotatedChord(1, Fraction(1), Fraction(2), (72,), ()),
        NotatedChord(0, Fraction(0), Fraction(4), (48, 55), ()),
    ]
    root = ET.fromstring(notation_to_musicxml(notation_of(chords)).encode())
    (measure,) = root.iter("measure")
    notes = measure.findall("note")
    staff_of = [(n.findtext("staff"), n.find("rest") is not None, n.findtext("type")) for n in notes]
    assert staff_of == [
        ("1", True, "quarter"),
        ("1", False, "half"),
        ("1", True, "quarter"),
        ("2", False, "whole"),
        ("2", False, "whole"),
    ]
    assert notes[4].find("chord") is not None
    assert measure.find("attributes/staves").text == "2"
    assert [c.findtext("sign") for c in measure.iter("clef")] == ["G", "F"]


def test_a_note_over_the_bar_line_is_tied_and_accidentals_show_once_per_bar():
    chords = [
        NotatedChord(1, Fraction(0), Fraction(1), (66,), ()),
        NotatedChord(1, Fraction(1), Fraction(1), (66,), ()),
    ]
    chords.append(NotatedChord(1, Fraction(3), Fraction(2), (66,), ()))
    root = ET.fromstring(notation_to_musicxml(notation_of(chords)).encode())
    first, second = root.iter("measure")
    sharps = [n.findtext("accidental") for n in first.findall("note") if n.find("pitch") is not None]
    assert sharps == ["sharp", None, None]
    tied = [n for m in (first, second) for n in m.findall("note") if n.find("tie") is not None]
    assert [t.find("tie").get("type") for t in tied] == ["start", "stop"]
    assert tied[1].findtext("accidental") is None


def test_triplets_carry_a_time_modification_and_one_bracket_per_beat():
    chords = [NotatedChord(1, Fraction(k, 3), Fraction(1, 3), (72 + k,), ()) for k in range(3)]
    chords.append(NotatedChord(0, Fraction(0), Fraction(4), (48,), ()))
    root = ET.fromstring(notation_to_musicxml(notation_of(chords)).encode())
    triplets = [n for n in root.iter("note") if n.find("time-modification") is not None]
    assert len(triplets) == 3
    assert [t.get("type") for n in triplets for t in n.iter("tuplet")] == ["start", "stop"]
    assert [n.findtext("beam") for n in triplets] == ["begin", "continue", "end"]


def test_pedal_spans_become_pedal_marks_below_the_lower_staff():
    notes = [Note(i * BEAT, i * BEAT + 0.45, 60 + i % 5, 80) for i in range(16)]
    text = notation_to_musicxml(notate(notes, [PedalSpan(0.0, 1.9)]), title="Take <1>")
    root = ET.fromstring(text.encode())
    assert [p.get("type") for p in root.iter("pedal")] == ["start", "stop"]
    assert root.findtext("work/work-title") == "Take <1>"


def test_a_silent_performance_is_one_bar_of_rests_on_each_staff():
    root = ET.fromstring(notation_to_musicxml(notate([])).encode())
    (measure,) = root.iter("measure")
    assert [n.find("rest") is not None for n in measure.findall("note")] == [True, True]


def staff_quarters(measure: ET.Element, staff: str, divisions: int) -> Fraction:
    """How much time a staff's notes and rests fill in one measure (chord members counted once)."""
    notes = [n for n in measure.findall("note") if n.findtext("staff") == staff and n.find("chord") is None]
    return sum((Fraction(int(n.findtext("duration")), divisions) for n in notes), Fraction(0))


def test_a_pickup_is_a_short_measure_zero_and_full_bars_count_from_one():
    chords = [
        NotatedChord(1, Fraction(3), Fraction(1), (67,), ()),  # the upbeat, on beat 4 of the pickup bar
        NotatedChord(1, Fraction(4), Fraction(4), (72,), ()),
        NotatedChord(0, Fraction(4), Fraction(4), (48,), ()),
    ]
    notation = notation_of(chords, pedals=[(Fraction(2), Fraction(6))])
    notation.origin_beat = -3
    root = ET.fromstring(notation_to_musicxml(notation).encode())
    divisions = int(root.findtext(".//divisions"))
    pickup, first = list(root.iter("measure"))
    assert (pickup.get("number"), pickup.get("implicit")) == ("0", "yes")
    assert first.get("number") == "1" and first.get("implicit") is None
    assert staff_quarters(pickup, "1", divisions) == staff_quarters(pickup, "2", divisions) == 1
    right_hand = [n for n in pickup.findall("note") if n.findtext("staff") == "1"]
    assert [n.find("rest") is None for n in right_hand] == [True]  # the upbeat alone, no rests before it
    assert int(pickup.findtext("backup/duration")) == divisions
    assert pickup.find(".//pedal[@type='start']") is not None  # a pedal pressed earlier starts with the music


def test_a_piece_starting_on_the_downbeat_has_no_pickup():
    notation = notation_of([NotatedChord(1, Fraction(0), Fraction(4), (72,), ())])
    notation.origin_beat = -3  # even with a pickup phase, nothing sounds before the first bar line
    (measure,) = ET.fromstring(notation_to_musicxml(notation).encode()).iter("measure")
    assert measure.get("number") == "1" and measure.get("implicit") is None


def test_the_tempo_mark_counts_the_beat_the_metre_counts_and_sets_the_playback_tempo():
    notation = notation_of([NotatedChord(1, Fraction(0), Fraction(3, 2), (72,), ())])
    notation.meter, notation.tempo_bpm = Meter("6/8", 0), 60.0
    direction = ET.fromstring(notation_to_musicxml(notation).encode()).find(".//measure/direction")
    assert direction.findtext(".//metronome/beat-unit") == "quarter"
    assert direction.find(".//metronome/beat-unit-dot") is not None
    assert direction.findtext(".//metronome/per-minute") == "60"
    assert float(direction.find("sound").get("tempo")) == 90.0  # quarters per minute


def test_without_a_users_tempo_the_mark_is_the_played_one():
    notes = [Note(0.75 * i, 0.75 * i + 0.5, 60, 70) for i in range(8)]
    notation = Notation(notes, 0.75 * np.arange(10.0), Meter("4/4", 0), KeyEstimate(0, "major", 0))
    assert notation.metronome_bpm() == 80.0
