"""Metre: what a user may tell the sheet of a piece (RhythmHint), checked as typed, and how each metre counts its beats."""

from __future__ import annotations

import pytest

from notestream.score.meter import Meter, RhythmHint, beat_quarters


def test_a_hint_reads_what_the_user_typed():
    hint = RhythmHint.from_text(" 72 ", "6/8")
    assert hint == RhythmHint(72.0, "6/8")
    assert hint.beat_period == pytest.approx(60 / 72)


def test_empty_or_auto_leaves_the_choice_to_the_network():
    assert not RhythmHint.from_text("", "auto")
    assert not RhythmHint.from_text(None, None)
    assert RhythmHint.from_text("auto", "3/4") == RhythmHint(None, "3/4")
    assert RhythmHint().beat_period is None


@pytest.mark.parametrize(("tempo", "signature", "message"), [
    ("fast", None, "beats per minute, a number"),
    ("5", None, "from 10 to 400"),
    ("nan", None, "from 10 to 400"),
    ("1000", None, "from 10 to 400"),
    (None, "7/8", "not one of 2/4, 3/4"),
    (None, "6/16", "not one of 2/4, 3/4"),
])
def test_a_hint_the_sheet_cannot_use_is_refused_with_the_reason(tempo, signature, message):
    with pytest.raises(ValueError, match=message):
        RhythmHint.from_text(tempo, signature)


@pytest.mark.parametrize(("signature", "per_bar", "beat", "compound"), [
    ("6/8", 2, 1.5, True), ("5/4", 5, 1.0, False), ("3/2", 3, 2.0, False), ("4/2", 4, 2.0, False),
    ("6/4", 2, 3.0, True), ("4/8", 4, 0.5, False), ("5/8", 5, 0.5, False), ("12/16", 4, 0.75, True),
])
def test_a_user_may_give_metres_the_network_does_not_name_counted_as_asap_counts_them(signature, per_bar, beat, compound):
    meter = Meter(RhythmHint(None, signature).time_signature, 0)
    assert (meter.beats_per_bar, meter.beat_quarter_length, meter.compound) == (per_bar, beat, compound)


@pytest.mark.parametrize(("signature", "quarters"), [
    ("3/8", 0.5), ("6/4", 3.0), ("4/2", 2.0), ("15/8", 1.5), ("12/16", 0.75), ("7/8", 0.5), ("9/4", 3.0),
])
def test_a_beat_is_counted_as_asap_counts_it(signature, quarters):
    assert beat_quarters(signature) == quarters
