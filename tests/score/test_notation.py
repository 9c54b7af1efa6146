"""The musical decisions behind the page: hands, tuplets, meter, key and spelling."""

from __future__ import annotations

from fractions import Fraction

from notestream.notes import Note
from notestream.score.key import estimate_key, spell_pitch
from notestream.score.notation import notate

BEAT = 0.5


def notated_hands(notes: list[Note]) -> list[int]:
    """The hand each note is written in, in the order given."""
    notation = notate(notes)
    hand_of = {notation.notes[i]: c.hand for c in notation.chords for i in c.sources}
    return [hand_of[n] for n in notes]


def test_a_melody_crossing_middle_c_stays_in_one_hand():
    melody = [Note(i * BEAT, i * BEAT + 0.45, p, 80) for i, p in enumerate([64, 62, 60, 59, 57, 59, 60, 62])]
    bass = [Note(i * 4 * BEAT, i * 4 * BEAT + 1.9, p, 60) for i in range(2) for p in (36, 43)]
    hands = notated_hands(melody + bass)
    assert set(hands[: len(melody)]) == {1}
    assert set(hands[len(melody) :]) == {0}


def test_triplet_eighths_are_quantised_to_thirds_of_a_beat():
    notes = []
    for beat in range(16):
        step = 3 if beat % 4 in (1, 2) else 2  # two beats of triplets in each bar, the rest in eighths
        notes += [
            Note(beat * BEAT + k * BEAT / step, beat * BEAT + (k + 0.9) * BEAT / step, 72 + k, 80)
            for k in range(step)
        ]
        if beat % 4 == 0:
            notes.append(Note(beat * BEAT, beat * BEAT + 4 * BEAT - 0.05, 48, 70))
    notation = notate(notes, beat_source=None)  # quantisation on the tracker's steady beat
    right = [c for c in notation.chords if c.hand == 1]
    lengths = {c.length for c in right}
    assert Fraction(1, 3) in lengths and Fraction(1, 2) in lengths
    assert all(c.start % Fraction(1, 6) == 0 for c in right)


def test_a_waltz_is_in_three_with_bass_on_the_downbeat():
    notes = []
    for bar in range(8):
        t = bar * 3 * BEAT
        notes.append(Note(t, t + BEAT - 0.05, 43 if bar % 2 else 36, 90))
        notes += [Note(t + k * BEAT, t + (k + 1) * BEAT - 0.05, p, 55) for k in (1, 2) for p in (64, 67, 72)]
        notes.append(Note(t, t + 3 * BEAT - 0.05, 76 + bar % 3, 85))
    notation = notate(notes)
    assert notation.meter.time_signature == "3/4"
    assert notation.meter.first_downbeat == 0


def test_e_flat_major_is_recognised_and_spelled_with_flats():
    scale = [63, 65, 67, 68, 70, 72, 74, 75]
    notes = [Note(i * BEAT, i * BEAT + 0.45, p, 80) for i, p in enumerate(scale + scale[::-1])]
    notes += [Note(0, 3.9, p, 60) for p in (39, 46, 51)] + [Note(4, 7.9, p, 60) for p in (39, 46, 51)]
    found = estimate_key(notes)
    assert (found.tonic_name, found.mode, found.fifths) == ("Eb", "major", -3)
    assert spell_pitch(70, found) == ("B", -1, 4)
    assert spell_pitch(63, found) == ("E", -1, 4)
    assert spell_pitch(66, found)[:2] == ("G", -1)


def test_a_minor_raises_its_leading_tone_as_a_sharp():
    phrase = [69, 71, 72, 74, 76, 77, 80, 81, 80, 76, 72, 71, 69]
    notes = [Note(i * BEAT, i * BEAT + 0.45, p, 80) for i, p in enumerate(phrase)]
    notes += [Note(0, 1.9, 45, 70), Note(2, 3.9, 52, 70), Note(4, 5.9, 45, 70)]
    found = estimate_key(notes)
    assert (found.tonic_name, found.mode, found.fifths) == ("A", "minor", 0)
    assert spell_pitch(80, found) == ("G", 1, 5)


def test_key_held_length_is_notated_not_the_pedal_and_capped_at_the_next_onset():
    notes = [Note(0.0, 0.12, 72, 80), Note(0.5, 2.9, 74, 80), Note(1.0, 1.45, 76, 80)]
    notes += [Note(i * BEAT, i * BEAT + 0.45, 48 + (i % 2) * 7, 60) for i in range(8)]
    notation = notate(notes, pedals=[], beat_source=None)  # note values on the tracker's steady beat
    right = sorted((c for c in notation.chords if c.hand == 1), key=lambda c: c.start)
    assert [c.pitches for c in right] == [(72,), (74,), (76,)]
    assert right[0].length == Fraction(1, 4)  # a staccato sixteenth, then a rest until the next onset
    assert right[1].length == Fraction(notation.meter.beat_quarter_length)  # held 2.4 s; the next onset is a beat later
