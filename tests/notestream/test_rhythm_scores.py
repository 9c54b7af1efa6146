"""Humanised scores for the rhythm network: labels come from what is written, exactly."""

import numpy as np

from notestream.commands.rhythm_scores import MIN_NOTES, score_examples
from notestream.model.data.humanize import WrittenBar
from notestream.model.data.music21_corpus import KEYBOARD, Music21Work
from notestream.score.rhythm_data import written_beats
from notestream.score.rhythm_net import TIME_SIGNATURES


def write_waltz(root, bars=12):
    """A 3/4 piece in D major (two sharps) for piano with a one-beat pickup: an eighth-note melody over a
    bass on each downbeat and chords on beats two and three."""
    from music21 import chord, instrument, key, meter, note, stream

    right, left = stream.Part(), stream.Part()
    for part in (right, left):
        part.insert(0, instrument.Piano())
    for number in range(bars + 1):
        upper, lower = stream.Measure(number=number), stream.Measure(number=number)
        if number == 0:
            for measure in (upper, lower):
                measure.insert(0, meter.TimeSignature("3/4"))
                measure.insert(0, key.KeySignature(2))
            upper.append(note.Note(69, quarterLength=1.0))
            lower.append(note.Rest(quarterLength=1.0))
            upper.paddingLeft = lower.paddingLeft = 2.0
        else:
            for k in range(6):
                upper.append(note.Note(74 + (k + number) % 5, quarterLength=0.5))
            lower.append(note.Note(50, quarterLength=1.0))
            lower.append(chord.Chord([57, 62, 66], quarterLength=1.0))
            lower.append(chord.Chord([57, 62, 66], quarterLength=1.0))
        right.append(upper)
        left.append(lower)
    (root / "waltz").mkdir(parents=True)
    stream.Score([right, left]).write("musicxml", fp=str(root / "waltz" / "piece.musicxml"))
    return Music21Work("waltz/piece.musicxml", "Anon Composer", "Waltz", KEYBOARD)


def test_a_pickup_bar_counts_beats_from_its_full_bar_and_compound_time_counts_dotted_quarters():
    bars = [WrittenBar(0.0, 1.5, 1.5, "6/8", 0), WrittenBar(1.5, 3.0, 0.0, "6/8", 0), WrittenBar(4.5, 3.0, 0.0, "3/4", 0)]
    beats, downbeats = written_beats(bars)
    assert beats.tolist() == [0.0, 1.5, 3.0, 4.5, 5.5, 6.5]
    assert downbeats.tolist() == [1.5, 4.5]  # the pickup has none


def test_a_humanised_waltz_is_labelled_with_its_written_beats_metre_key_and_hands(tmp_path):
    work = write_waltz(tmp_path / "corpus")
    first, second = score_examples(work, 2, seed=3, root=tmp_path / "corpus")
    assert len(first.onset) == 1 + 12 * (6 + 1 + 3 + 3)
    assert not np.allclose(first.onset, second.onset)  # two performances, two tempi and timings

    pitch, beat, downbeat = first.pitch, first.beat.astype(bool), first.downbeat.astype(bool)
    assert beat[pitch == 50].all() and downbeat[pitch == 50].all()  # the bass on every downbeat
    chords = np.isin(pitch, [57, 62, 66])
    assert beat[chords].all() and not downbeat[chords].any()  # beats two and three
    assert not downbeat[0]  # the pickup
    assert beat.sum() == 1 + 12 * (3 + 1 + 3 + 3)  # every other melody eighth, the bass and the chords
    assert set(first.time_signature) == {TIME_SIGNATURES.index("3/4")}
    assert set(first.key) == {2}
    assert (first.hand[pitch >= 69] == 1).all() and (first.hand[pitch < 69] == 0).all()
    beat_seconds = np.diff(first.onset[pitch == 50]) / 3
    assert np.allclose(np.exp(np.median(first.log_period)), np.median(beat_seconds), rtol=0.15)


def test_a_fragment_too_short_to_have_a_metre_gives_no_examples(tmp_path):
    work = write_waltz(tmp_path / "corpus", bars=2)
    assert 1 + 2 * 13 < MIN_NOTES
    assert score_examples(work, 1, seed=0, root=tmp_path / "corpus") == []
