"""The engraved page of a real excerpt: bars, metre, key and one pedal bracket per pedal press.

The excerpt is the opening of Chopin's Mazurka Op. 6 No. 2 (3/4, C-sharp minor after a drone on its dominant, from music21's corpus of
public-domain scores) played by the corpus humaniser, with rubato, spread chords and a pedal per harmony.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from notestream.model.data.humanize import humanize
from notestream.model.data.music21_corpus import KEYBOARD_WORKS, read_score
from notestream.notes import PedalSpan
from notestream.score import notate, notation_to_musicxml, render_svg_pages

EXCERPT_S = 30.0


@pytest.fixture(scope="module")
def mazurka():
    work = next(w for w in KEYBOARD_WORKS if "mazurka06-2" in w.path)
    performance = humanize(read_score(work), seed=3)
    notes = [n for n in performance.notes if n.onset < EXCERPT_S]
    pedals = [p for p in performance.pedals if p.onset < EXCERPT_S]
    notation = notate(notes, pedals)
    text = notation_to_musicxml(notation, "Mazurka")
    return notation, pedals, text, render_svg_pages(text)


def parsed(text: str) -> ET.Element:
    return ET.fromstring(text.split("\n", 2)[2])


def test_the_page_shows_the_notations_key_and_time_signature(mazurka):
    notation, _pedals, text, _pages = mazurka
    root = parsed(text)
    assert int(root.find(".//key/fifths").text) == notation.key.fifths
    top, bottom = notation.meter.numerator_denominator
    assert (root.find(".//time/beats").text, root.find(".//time/beat-type").text) == (str(top), str(bottom))


def test_the_page_opens_with_a_tempo_mark(mazurka):
    pages = mazurka[3]
    assert 'class="tempo"' in pages[0] and 'class="tempo"' not in "".join(pages[1:])


def test_the_mazurka_is_in_three_four(mazurka):
    assert mazurka[0].meter.time_signature == "3/4"


def test_every_bar_of_the_page_is_full_and_the_page_shows_every_bar(mazurka):
    notation, _pedals, text, pages = mazurka
    root = parsed(text)
    measures = root.findall(".//measure")
    beats_heard = int((notation.beats < EXCERPT_S).sum())
    assert abs(len(measures) - beats_heard / notation.meter.beats_per_bar) <= 3
    assert sum(len(re.findall(r'class="measure"', page)) for page in pages) == len(measures)
    divisions = int(root.find(".//divisions").text)
    for measure in measures[1:-1]:
        filled: dict[tuple[str, str], int] = {}
        for n in measure.findall("note"):
            if n.find("chord") is None:
                key = (n.find("staff").text, n.find("voice").text)
                filled[key] = filled.get(key, 0) + int(n.find("duration").text)
        assert {s for s, _ in filled} == {"1", "2"}  # each staff, in one voice or two, fills the bar
        assert set(filled.values()) == {notation.bar_length * divisions}


def test_each_pedal_press_is_one_bracket_and_none_overlap(mazurka):
    notation, pedals, text, pages = mazurka
    starts = text.count('<pedal type="start" line="yes"')
    assert starts == len(notation.pedals) == text.count('<pedal type="stop" line="yes"')
    assert 0 < starts <= len(pedals)
    assert all(a[1] <= b[0] for a, b in zip(notation.pedals, notation.pedals[1:], strict=False))
    drawn = sum(page.count('class="pedal">') for page in pages)  # a bracket drawn; a mark without one is empty
    assert starts <= drawn <= starts + 4  # a bracket crossing a system break is drawn once on each system
    assert not any("#E650" in page or "#E655" in page for page in pages)  # no "Ped." and "*" glyphs to stack


def test_overlapping_presses_after_quantisation_become_separate_spans():
    from notestream.notes import Note

    notes = [Note(i * 0.5, i * 0.5 + 0.4, 60 + (i % 5), 70) for i in range(16)]
    pedals = [PedalSpan(0.0, 1.02), PedalSpan(1.0, 2.0), PedalSpan(1.01, 1.03), PedalSpan(3.0, 3.9)]
    spans = notate(notes, pedals).pedals
    assert all(start < end for start, end in spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
