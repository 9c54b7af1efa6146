"""Changes of metre: decoded where the rhythm network's time signature changes stably, and written as a
<time> change at that bar of the MusicXML (and so of Verovio's page)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pytest

from notestream.notes import Note
from notestream.score import notate, notation_to_musicxml, render_svg_pages
from notestream.score.key import KeyEstimate
from notestream.score.meter import Meter
from notestream.score.notation import NotatedChord, Notation
from notestream.score.rhythm_decoding import decode_meter_changes
from notestream.score.rhythm_net import TIME_SIGNATURES, RhythmPrediction

BEAT_S = 0.5
WALTZ_BARS, MARCH_BARS = 12, 12  # 3/4 bars, then 2/4 bars


def accented_phrase() -> list[Note]:
    """Twelve bars of 3/4 then twelve of 2/4: a loud low chord on each downbeat, soft single notes between."""
    notes, t = [], 0.5
    for beats_per_bar, bars in ((3, WALTZ_BARS), (2, MARCH_BARS)):
        for bar in range(bars):
            for beat in range(beats_per_bar):
                if beat == 0:
                    notes += [Note(t, t + 0.45, pitch + bar % 3, 100) for pitch in (43, 55, 59)]
                else:
                    notes.append(Note(t, t + 0.2, 67 + beat, 50))
                t += BEAT_S
    return notes


def prediction_for(notes: list[Note], signature_of) -> RhythmPrediction:
    """A network output that hears each note's metre as `signature_of(note)` says, 80 % sure."""
    n = len(notes)
    ts = np.full((n, len(TIME_SIGNATURES)), 0.2 / (len(TIME_SIGNATURES) - 1))
    for i, note in enumerate(notes):
        ts[i, TIME_SIGNATURES.index(signature_of(note))] = 0.8
    return RhythmPrediction(np.ones(n), np.zeros(n), np.full(n, BEAT_S), np.ones(n), ts, np.full((n, 12), 1 / 12),
                            TIME_SIGNATURES)


def waltz_then_march(note: Note) -> str:
    return "3/4" if note.onset < 0.5 + WALTZ_BARS * 3 * BEAT_S - 0.01 else "2/4"


def test_a_stable_change_of_heard_metre_starts_a_new_metre_at_that_bar():
    notes = accented_phrase()
    beats = 0.5 + BEAT_S * np.arange(WALTZ_BARS * 3 + MARCH_BARS * 2 + 1)
    meter = decode_meter_changes(notes, prediction_for(notes, waltz_then_march), beats, Meter("3/4", 0))
    assert meter.changes == ((WALTZ_BARS * 3, "2/4"),)


def test_a_steady_metre_and_a_brief_doubt_change_nothing():
    notes = accented_phrase()
    beats = 0.5 + BEAT_S * np.arange(WALTZ_BARS * 3 + MARCH_BARS * 2 + 1)
    steady = decode_meter_changes(notes, prediction_for(notes, lambda n: "3/4"), beats, Meter("3/4", 0))
    blip = decode_meter_changes(notes, prediction_for(notes, lambda n: "2/4" if 10 < n.onset < 12 else "3/4"),
                                beats, Meter("3/4", 0))
    assert steady.changes == () and blip.changes == ()


def test_a_change_of_beat_unit_is_refused():
    with pytest.raises(ValueError, match="change the beat"):
        Meter("3/4", 0, ((6, "6/8"),))


def one_chord_per_beat(meter: Meter, n_beats: int) -> Notation:
    """A notation of one quarter-note chord on every beat, in `meter`."""
    beats = BEAT_S * np.arange(n_beats + 1)
    chords = [NotatedChord(1, Fraction(b), Fraction(1), (72,), (b,)) for b in range(n_beats)]
    notes = [Note(b * BEAT_S, b * BEAT_S + 0.4, 72) for b in range(n_beats)]
    return Notation(notes, beats, meter, KeyEstimate(0, "major", 0), chords)


def test_the_page_writes_the_new_time_signature_at_the_bar_where_the_metre_changes():
    notation = one_chord_per_beat(Meter("3/4", 0, ((WALTZ_BARS * 3, "2/4"),)), WALTZ_BARS * 3 + MARCH_BARS * 2)
    text = notation_to_musicxml(notation)
    measures = ET.fromstring(text.split("\n", 2)[2]).findall(".//measure")
    assert len(measures) == WALTZ_BARS + MARCH_BARS
    changed = [m.get("number") for m in measures if m.find("attributes/time") is not None]
    assert changed == ["1", str(WALTZ_BARS + 1)]
    assert measures[WALTZ_BARS].find("attributes/time/beats").text == "2"
    divisions = int(measures[0].find("attributes/divisions").text)
    filled = [sum(int(n.find("duration").text) for n in m.findall("note") if n.find("staff").text == "1")
              for m in measures]
    assert filled == [3 * divisions] * WALTZ_BARS + [2 * divisions] * MARCH_BARS
    pages = render_svg_pages(text)
    assert sum(page.count('class="meterSig"') for page in pages) >= 2 * 2  # both staves, at both metres
    assert notation.downbeat_times().tolist() == [BEAT_S * 3 * k for k in range(WALTZ_BARS)] + [
        BEAT_S * (3 * WALTZ_BARS + 2 * k) for k in range(MARCH_BARS + 1)]


def test_a_steady_piece_is_written_in_one_metre():
    notation = notate(accented_phrase()[: WALTZ_BARS * 5], meter_changes=True)
    assert notation.meter.changes == ()
    assert notation_to_musicxml(notation).count("<time>") == 1


@pytest.mark.xfail(strict=True, reason="the shipped rhythm network hears one metre in both halves")
def test_the_shipped_network_hears_the_accented_phrase_change_from_three_to_two():
    notation = notate(accented_phrase(), meter_changes=True)
    assert [s for _, s in notation.signature_times()] == ["3/4", "2/4"]
