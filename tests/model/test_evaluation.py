"""Transcription scores on hand-made cases whose precision, recall and F1 are worked out by hand."""

from __future__ import annotations

import pytest

from notestream.model.evaluation import (
    TranscriptionMetrics,
    frame_scores,
    mean_scores,
    note_metrics,
    performance_metrics,
)
from notestream.notes import Note, PedalSpan, Performance

# Four reference notes one second apart.
REFERENCE = [Note(0.0, 0.5, 60, 80), Note(1.0, 1.5, 62, 80), Note(2.0, 2.5, 64, 80), Note(3.0, 3.5, 65, 80)]


def test_onsets_within_50_ms_match() -> None:
    # 30 ms late: match; 20 ms late: match; 200 ms late: no match; the fourth note is missed.
    estimate = [Note(0.03, 0.5, 60, 80), Note(1.02, 1.6, 62, 80), Note(2.2, 2.5, 64, 80)]
    scores = note_metrics(estimate, REFERENCE)
    assert scores.note_precision == pytest.approx(2 / 3)
    assert scores.note_recall == pytest.approx(1 / 2)
    assert scores.note_f1 == pytest.approx(4 / 7)  # 2PR / (P + R) = (2/3) / (7/6)


def test_a_wrong_pitch_at_the_right_time_does_not_match() -> None:
    scores = note_metrics([Note(0.0, 0.5, 61, 80)], REFERENCE)
    assert (scores.note_precision, scores.note_recall, scores.note_f1) == (0.0, 0.0, 0.0)


def test_offsets_match_within_a_fifth_of_the_note_or_50_ms_whichever_is_more() -> None:
    reference = [Note(0.0, 1.0, 60, 80), Note(2.0, 2.1, 62, 80), Note(3.0, 3.1, 64, 80), Note(4.0, 6.0, 65, 80)]
    estimate = [
        Note(0.0, 1.15, 60, 80),  # 1 s note: tolerance 0.2 s, off by 0.15 -> match
        Note(2.0, 2.14, 62, 80),  # 0.1 s note: tolerance max(0.02, 0.05) = 0.05, off by 0.04 -> match
        Note(3.0, 3.2, 64, 80),  # 0.1 s note: off by 0.1 > 0.05 -> no match
        Note(4.0, 6.5, 65, 80),  # 2 s note: tolerance 0.4, off by 0.5 -> no match
    ]
    scores = note_metrics(estimate, reference)
    assert (scores.note_precision, scores.note_recall, scores.note_f1) == (1.0, 1.0, 1.0)
    assert scores.note_offset_precision == pytest.approx(1 / 2)
    assert scores.note_offset_recall == pytest.approx(1 / 2)
    assert scores.note_offset_f1 == pytest.approx(1 / 2)


def test_velocity_counts_after_mir_eval_fits_estimated_to_reference_velocities() -> None:
    # Reference velocities 40, 80, 120 normalise to 0, 0.5, 1. The least-squares line through the
    # estimated (50, 0), (50, 0.5), (100, 1) maps 50 -> 0.25 and 100 -> 1.0: errors 0.25, 0.25, 0.
    # Only the last is within the 0.1 tolerance, so 1 of 3 notes matches with velocity.
    reference = [Note(0.0, 0.5, 60, 40), Note(1.0, 1.5, 62, 80), Note(2.0, 2.5, 64, 120)]
    estimate = [Note(n.onset, n.offset, n.pitch, v) for n, v in zip(reference, (50, 50, 100), strict=True)]
    scores = note_metrics(estimate, reference)
    assert scores.note_offset_f1 == 1.0
    assert scores.note_offset_velocity_precision == pytest.approx(1 / 3)
    assert scores.note_offset_velocity_recall == pytest.approx(1 / 3)
    assert scores.note_offset_velocity_f1 == pytest.approx(1 / 3)


def test_velocities_on_another_scale_but_in_proportion_all_match() -> None:
    reference = [Note(n.onset, n.offset, n.pitch, v) for n, v in zip(REFERENCE[:3], (40, 80, 120), strict=True)]
    estimate = [Note(n.onset, n.offset, n.pitch, 10 + n.velocity // 2) for n in reference]  # 30, 50, 70
    assert note_metrics(estimate, reference).note_offset_velocity_f1 == 1.0


def test_frame_scores_count_key_frame_cells() -> None:
    # At 100 frames/s the estimate fills 100 cells of C4; the reference 50 of C4 and 50 of E4.
    estimate = [Note(0.0, 1.0, 60, 80)]
    reference = [Note(0.0, 0.5, 60, 80), Note(0.0, 0.5, 64, 80)]
    assert frame_scores(estimate, reference) == pytest.approx((0.5, 0.5, 0.5))
    assert note_metrics(estimate, reference).frame_f1 == pytest.approx(0.5)


def test_the_pedal_extends_reference_offsets_before_scoring() -> None:
    reference = Performance([Note(0.0, 0.5, 60, 80)], [PedalSpan(0.25, 1.0)])  # sounds until 1.0
    held = Performance([Note(0.0, 1.0, 60, 80)], [])
    released = Performance([Note(0.0, 0.5, 60, 80)], [])
    assert performance_metrics(held, reference).note_offset_f1 == 1.0
    released_scores = performance_metrics(released, reference)
    assert released_scores.note_f1 == 1.0
    assert released_scores.note_offset_f1 == 0.0  # off by 0.5 s, tolerance 0.2 s
    assert released_scores.frame_precision == 1.0
    assert released_scores.frame_recall == pytest.approx(0.5)
    assert released_scores.frame_f1 == pytest.approx(2 / 3)


def test_a_perfect_transcription_scores_one_everywhere() -> None:
    performance = Performance(REFERENCE, [PedalSpan(0.2, 1.2)])
    scores = performance_metrics(performance, performance)
    assert all(value == 1.0 for value in scores.to_dict().values())


def test_an_empty_transcription_scores_zero_not_an_error() -> None:
    scores = note_metrics([], REFERENCE)
    assert all(value == 0.0 for value in scores.to_dict().values())


def test_mean_scores_average_each_metric() -> None:
    ones = TranscriptionMetrics(*[1.0] * 12)
    halves = TranscriptionMetrics(*[0.5] * 12)
    assert all(value == 0.75 for value in mean_scores([ones, halves]).to_dict().values())
    with pytest.raises(ValueError):
        mean_scores([])


def test_pedal_presses_and_releases_are_scored_within_50_ms():
    from notestream.model.evaluation import pedal_metrics
    from notestream.notes import PedalSpan

    ref = [PedalSpan(1.0, 2.0), PedalSpan(3.0, 4.0)]
    est = [PedalSpan(1.03, 2.2), PedalSpan(5.0, 6.0)]
    scores = pedal_metrics(est, ref)
    assert scores.pedal_onset_f1 == pytest.approx(0.5)  # one of two presses within 50 ms
    assert scores.pedal_offset_f1 == 0.0
    assert pedal_metrics([], []).pedal_onset_f1 == 1.0 and pedal_metrics([], ref).pedal_onset_f1 == 0.0


def test_pedal_events_cut_by_an_excerpts_edges_are_left_out_of_both_sides():
    from notestream.model.evaluation import pedal_metrics
    from notestream.notes import PedalSpan

    ref = [PedalSpan(0.0, 1.0), PedalSpan(2.0, 10.0)]  # down before the excerpt starts, still down at its end
    est = [PedalSpan(0.3, 1.01), PedalSpan(2.02, 9.0)]
    scores = pedal_metrics(est, ref, duration=10.0)
    assert scores.pedal_onset_f1 == pytest.approx(2 / 3)  # presses: ref {2.0}, est {0.3, 2.02}
    assert scores.pedal_offset_f1 == pytest.approx(2 / 3)  # releases: ref {1.0}, est {1.01, 9.0}
    assert pedal_metrics(est, ref).pedal_onset_f1 == pytest.approx(0.5)  # without the duration: 0.0 counts
