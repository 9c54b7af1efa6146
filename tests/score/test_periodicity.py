"""Chord and periodicity cues for the rhythm network: what a note's chord is, and at which periods the onsets
around it recur."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from notestream.notes import Note
from notestream.score.periodicity import (
    MAX_PERIOD,
    MIN_PERIOD,
    event_features,
    onset_events,
    periodicity,
)
from notestream.score.rhythm_net import (
    N_FEATURES,
    RhythmConfig,
    RhythmEnsemble,
    RhythmNet,
    load_rhythm_net,
    note_features,
    predict_rhythm,
    save_rhythm_checkpoint,
)

BINS = 24
PERIODS = np.exp(np.linspace(np.log(MIN_PERIOD), np.log(MAX_PERIOD), BINS))


def pulse(period: float, seconds: float = 20.0, accent_every: int = 0) -> np.ndarray:
    """Sorted onsets of a steady pulse; every `accent_every`-th beat doubled into a two-note chord."""
    beats = np.arange(0, seconds, period)
    accents = beats[::accent_every] + 0.01 if accent_every else np.zeros(0)
    return np.sort(np.r_[beats, accents])


def test_onsets_struck_together_form_one_event():
    event, size, times = onset_events(np.array([0.0, 0.01, 0.02, 0.5, 1.0, 1.02]))
    assert event.tolist() == [0, 0, 0, 1, 2, 2]
    assert size.tolist() == [3, 1, 2]
    assert times.tolist() == [0.0, 0.5, 1.0]


def test_a_steady_pulse_peaks_at_its_period():
    salience = periodicity(pulse(0.5), BINS)
    middle = salience[len(salience) // 2]
    assert abs(np.log(PERIODS[int(np.argmax(middle))] / 0.5)) < np.log(PERIODS[1] / PERIODS[0])
    assert middle.max() == 1.0 and middle[PERIODS < 0.3].max() < 0.1  # nothing recurs faster than the pulse


def test_twice_the_tempo_moves_the_peak_down_by_an_octave_of_period():
    slow = periodicity(pulse(0.8), BINS)[20]
    fast = periodicity(pulse(0.4), BINS)[40]
    octave = np.log(2) / np.log(PERIODS[1] / PERIODS[0])
    assert abs((np.argmax(slow) - np.argmax(fast)) - octave) <= 1


def test_accented_beats_raise_the_salience_of_the_bar():
    plain = periodicity(pulse(0.25), BINS)[40]
    accented = periodicity(pulse(0.25, accent_every=3), BINS)[40]
    bar = int(np.argmin(abs(np.log(PERIODS / 0.75))))
    assert accented[bar] > plain[bar]


def test_too_few_onsets_give_no_periodicity():
    assert not periodicity(np.array([0.0]), BINS).any()
    assert not periodicity(np.array([0.0, 0.01, 0.02]), BINS).any()  # one chord, no interval
    assert periodicity(np.zeros(0), BINS).shape == (0, BINS)


def test_a_chords_upper_notes_read_the_chords_gaps_not_zero():
    onsets = np.array([0.0, 0.5, 0.51, 0.52, 1.25])
    features = event_features(onsets, np.array([60, 48, 55, 64, 60]))
    assert np.allclose(features[1:4, 0], np.log(0.5 + 0.01))  # gap from the previous chord
    assert np.allclose(features[1:4, 1], np.log(0.75 + 0.01))  # to the next one
    assert np.allclose(features[1:4, 2], np.log(3))
    assert features[:, 3].tolist() == [1, 1, 0, 0, 1]  # the lowest note of its chord


def test_the_config_says_which_features_a_network_reads():
    notes = [Note(0.5 * i, 0.5 * i + 0.4, 60 + i % 3) for i in range(12)]
    assert note_features(notes).shape == (12, N_FEATURES)
    config = RhythmConfig(hidden=8, layers=1, event_features=True, periodicity_bins=BINS)
    features = note_features(notes, config)
    assert features.shape == (12, config.n_features) == (12, N_FEATURES + 4 + BINS)
    assert np.array_equal(features[:, :N_FEATURES], note_features(notes))  # the shared features come first


def test_a_saved_network_reads_its_own_features_back(tmp_path):
    torch.manual_seed(0)
    config = RhythmConfig(hidden=8, layers=1, event_features=True, periodicity_bins=BINS)
    net = RhythmNet(config).eval()
    save_rhythm_checkpoint(tmp_path / "r.pt", net)
    loaded = load_rhythm_net(tmp_path / "r.pt")
    assert loaded.config.n_features == config.n_features
    notes = [Note(0.4 * i, 0.4 * i + 0.3, 60 + i % 5) for i in range(30)]
    np.testing.assert_allclose(predict_rhythm(loaded, notes).beat, predict_rhythm(net, notes).beat, atol=1e-2)


def test_an_ensemble_lets_each_member_read_its_own_features(tmp_path):
    torch.manual_seed(0)
    plain = RhythmNet(RhythmConfig(hidden=8, layers=1)).eval()
    periodic = RhythmNet(RhythmConfig(hidden=8, layers=1, periodicity_bins=BINS)).eval()
    chords = RhythmNet(RhythmConfig(hidden=8, layers=1, event_features=True, periodicity_bins=BINS)).eval()
    ensemble = RhythmEnsemble([plain, periodic, chords])
    assert ensemble.config.event_features and ensemble.config.periodicity_bins == BINS
    save_rhythm_checkpoint(tmp_path / "mixed.pt", ensemble, {"members": 3})
    loaded = load_rhythm_net(tmp_path / "mixed.pt")
    assert [m.config.n_features for m in loaded.members] == [N_FEATURES, N_FEATURES + BINS, N_FEATURES + 4 + BINS]
    assert loaded.config.provenance == {"members": 3}
    notes = [Note(0.3 * i, 0.3 * i + 0.2, 60 + i % 7) for i in range(40)]
    log_periods = [np.log(predict_rhythm(member, notes).period) for member in (plain, periodic, chords)]
    np.testing.assert_allclose(np.log(predict_rhythm(loaded, notes).period), np.mean(log_periods, axis=0),
                               atol=1e-2)  # the mean of log periods; members saved in float16


def test_ensemble_members_must_agree_on_the_periods_they_read():
    with pytest.raises(ValueError, match="same periods"):
        RhythmEnsemble([RhythmNet(RhythmConfig(hidden=8, layers=1, periodicity_bins=12)),
                        RhythmNet(RhythmConfig(hidden=8, layers=1, periodicity_bins=24))])
