"""Two voices in one hand: a note held while the hand moves on keeps its length in a second voice."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from bisect import bisect_right
from fractions import Fraction

import numpy as np
import pytest

from notestream.midi import read_midi
from notestream.notes import Note
from notestream.score import notate, notation_to_musicxml, render_svg_pages
from notestream.score.asap import ScoreNotes, match_performance, read_annotations, read_score_notes
from notestream.score.key import KeyEstimate
from notestream.score.meter import Meter
from notestream.score.notation import NotatedChord, Notation
from notestream.score.voices import held_notes
from notestream_bench.score_bench import DEFAULT_ASAP_ROOT

# Schubert's Impromptu op. 90 no. 3 (a validation work): the right hand holds its melody over its own triplets.
IMPROMPTU = "Schubert/Impromptu_op.90_D.899/3/Hou06M.mid"

F = Fraction


def test_a_bass_note_held_under_moving_chords_is_the_second_voice():
    # a bass note held four beats, struck with a chord; chords follow on every half beat
    starts = [F(0), F(0), F(1, 2), F(1), F(3, 2), F(2)]
    ends = [F(4), F(1, 2), F(1), F(3, 2), F(2), F(5, 2)]
    assert held_notes(list(range(6)), starts, ends) == {0}


def test_a_legato_line_and_a_short_overlap_stay_in_one_voice():
    # each key released just after the next is struck, and one note held past only one later onset
    starts = [F(0), F(1), F(2), F(3), F(4)]
    ends = [F(5, 4), F(9, 4), F(7, 2), F(17, 4), F(5)]
    assert held_notes(list(range(5)), starts, ends) == set()


def test_the_second_voice_never_overlaps_itself():
    starts = [F(0), F(1, 2), F(1), F(3, 2), F(2), F(5, 2), F(3)]
    ends = [F(4), F(4), F(3, 2), F(2), F(5, 2), F(3), F(7, 2)]
    assert held_notes(list(range(7)), starts, ends) == {0}


def bass_under_chords() -> Notation:
    """One 4/4 bar of the left hand: C2 held all bar (second voice) under four quarter-note chords."""
    chords = [NotatedChord(0, F(0), F(4), (36,), (0,), voice=1)]
    chords += [NotatedChord(0, F(b), F(1), (52, 55), (1 + 2 * b, 2 + 2 * b)) for b in range(4)]
    chords += [NotatedChord(1, F(0), F(4), (72,), (9,))]
    notes = [Note(0.0, 2.0, 36)] + [Note(b * 0.5, b * 0.5 + 0.4, p) for b in range(4) for p in (52, 55)]
    notes.append(Note(0.0, 2.0, 72))
    return Notation(notes, 0.5 * np.arange(9), Meter("4/4", 0), KeyEstimate(0, "major", 0), chords)


def test_a_held_voice_is_written_as_a_second_voice_of_its_staff_and_both_fill_the_bar():
    text = notation_to_musicxml(bass_under_chords())
    measure = ET.fromstring(text.split("\n", 2)[2]).find(".//measure")
    divisions = int(measure.find("attributes/divisions").text)
    by_voice: dict[str, int] = {}
    for note in measure.findall("note"):
        if note.find("chord") is None:
            voice = note.find("voice").text
            by_voice[voice] = by_voice.get(voice, 0) + int(note.find("duration").text)
    assert by_voice == {"1": 4 * divisions, "5": 4 * divisions, "6": 4 * divisions}
    held = [n for n in measure.findall("note") if n.find("voice").text == "6"]
    assert [(n.find("pitch/step").text, n.find("type").text) for n in held] == [("C", "whole")]
    (page,) = render_svg_pages(text)
    assert page.count('class="layer"') == 3  # the right hand's one voice, the left hand's two


def score_held(score: ScoreNotes) -> set[int]:
    """Score notes that last past the second later onset of their staff: what the score holds over moving notes."""
    held = set()
    for staff in (0, 1):
        members = [j for j in range(len(score.notes)) if score.staves[j] == staff]
        onsets = sorted({round(score.notes[j].onset, 4) for j in members})
        for j in members:
            later = bisect_right(onsets, round(score.notes[j].onset, 4))
            if later + 1 < len(onsets) and score.notes[j].offset >= onsets[later + 1] - 1e-3:
                held.add(j)
    return held


@pytest.mark.skipif(not (DEFAULT_ASAP_ROOT / IMPROMPTU).is_file(), reason="ASAP is not next to this checkout")
def test_on_a_real_performance_the_second_voice_holds_what_the_score_holds():
    with open(DEFAULT_ASAP_ROOT / "metadata.csv") as f:
        row = next(r for r in csv.DictReader(f) if r["midi_performance"] == IMPROMPTU)
    notes = [n for n in read_midi(DEFAULT_ASAP_ROOT / IMPROMPTU).notes if n.onset < 20.0]
    score = read_score_notes(DEFAULT_ASAP_ROOT / row["midi_score"])
    matches = match_performance(notes, read_annotations(DEFAULT_ASAP_ROOT / row["performance_annotations"]),
                                read_annotations(DEFAULT_ASAP_ROOT / row["midi_score_annotations"]), score)
    in_score = {i for i, j in enumerate(matches) if j is not None and j in score_held(score)}
    matched = sum(j is not None for j in matches)
    notation = notate(notes, [], voices=True)
    index = {note: i for i, note in enumerate(notes)}
    ours = {index[notation.notes[k]] for c in notation.chords if c.voice == 1 for k in c.sources}
    ours = {i for i in ours if matches[i] is not None}
    precision, recall = len(ours & in_score) / len(ours), len(ours & in_score) / len(in_score)
    assert precision >= 2.5 * len(in_score) / matched  # held notes are found well above their share (~0.14)
    assert recall >= 0.3
    measures = ET.fromstring(notation_to_musicxml(notation).split("\n", 2)[2]).findall(".//measure")
    assert any(n.find("voice").text in ("2", "6") for m in measures for n in m.findall("note"))
