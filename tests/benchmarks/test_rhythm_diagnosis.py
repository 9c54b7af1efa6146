"""The rhythm diagnosis tells a wrong metrical level from wrong beat notes."""

from __future__ import annotations

import numpy as np

from notestream.score.rhythm_data import RhythmExample
from notestream.score.rhythm_net import TIME_SIGNATURES, RhythmPrediction
from notestream_bench.rhythm_diagnosis import diagnose, summary


def eighths(n: int = 96) -> RhythmExample:
    """Eighth notes at 0.25 s under annotated quarter beats: every other note is on a beat, in 2/4."""
    onset = np.arange(n) * 0.25
    return RhythmExample(
        onset=onset, offset=onset + 0.2, sounding_offset=onset + 0.2, pitch=np.full(n, 60), velocity=np.full(n, 70),
        beat=(np.arange(n) % 2 == 0).astype(np.float32), downbeat=(np.arange(n) % 4 == 0).astype(np.float32),
        log_period=np.full(n, np.log(0.5), np.float32), time_signature=np.zeros(n, int), key=np.zeros(n, int),
        hand=np.ones(n, int),
    )


def prediction(beat: np.ndarray, period: float, signature: str) -> RhythmPrediction:
    n = len(beat)
    votes = np.zeros((n, len(TIME_SIGNATURES)))
    votes[:, TIME_SIGNATURES.index(signature)] = 1.0
    return RhythmPrediction(beat=beat, downbeat=np.zeros(n), period=np.full(n, period), hand=np.ones(n),
                            time_signature=votes, key=np.full((n, 12), 1 / 12), time_signatures=TIME_SIGNATURES)


def test_a_network_that_hears_every_eighth_as_a_beat_is_diagnosed_at_a_faster_level():
    example = eighths()
    beats = example.onset[::2]
    heard = diagnose(example, prediction(np.full(96, 0.9), 0.25, "4/4"), beats, "2/4")
    assert heard["interval_ratio"] == 0.5 and heard["beat_f"] < 0.7
    assert heard["beat_f_both_annotated"] > 0.95 and heard["note_beat_f1"] < 0.7  # the grid ends a beat late
    assert heard["time_signature_vote"] == 0.0 and heard["time_signature_4_4"] == 0.0
    assert summary([heard])["share_faster_level"] == 1.0


def test_a_network_that_matches_the_annotations_loses_nothing():
    example = eighths()
    right = diagnose(example, prediction(example.beat.astype(float), 0.5, "2/4"), example.onset[::2], "2/4")
    assert right["beat_f"] == right["beat_f_both_annotated"] > 0.95
    assert right["note_beat_f1"] == 1.0 and right["time_signature_vote"] == 1.0
    assert summary([right])["share_faster_level"] == summary([right])["share_slower_level"] == 0.0
