"""The rhythm network's contract: features, augmentation, a self-describing checkpoint, and decoding."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from notestream.notes import Note
from notestream.score.beats import beat_times
from notestream.score.meter import RhythmHint
from notestream.score.rhythm_data import IGNORE, Augmentation, RhythmExample, augment
from notestream.score.rhythm_decoding import (
    analyse_rhythm,
    decode_beats,
    decode_hands,
    decode_key,
    decode_meter,
    with_tempo,
)
from notestream.score.rhythm_net import (
    N_FEATURES,
    RhythmConfig,
    RhythmEnsemble,
    RhythmNet,
    RhythmPrediction,
    load_rhythm_net,
    note_features,
    predict_rhythm,
    save_rhythm_checkpoint,
)
from notestream.score.rhythm_training import random_crops, write_ensemble


def example(n: int = 40) -> RhythmExample:
    onset = np.arange(n) * 0.5
    return RhythmExample(
        onset=onset, offset=onset + 0.4, sounding_offset=onset + 0.9, pitch=np.full(n, 60), velocity=np.full(n, 70),
        beat=np.ones(n, np.float32), downbeat=(np.arange(n) % 4 == 0).astype(np.float32),
        log_period=np.full(n, np.log(0.5), np.float32), time_signature=np.full(n, 2),
        key=np.full(n, 9), hand=np.full(n, 1),
    )


def test_features_have_one_row_per_note_and_mark_the_pitch_class():
    features = note_features([Note(0.0, 0.5, 61, 80), Note(0.0, 0.5, 64, 80), Note(0.5, 1.0, 60, 80)])
    assert features.shape == (3, N_FEATURES)
    assert features[0, 6 + 1] == 1 and features[1, 5] == 1  # C#; struck with the previous note


def test_augmentation_keeps_labels_in_step_with_tempo_and_transposition():
    rng = np.random.default_rng(0)
    changed = augment(example(), rng, Augmentation(drop=0.0, extra=0.0))
    shift = (changed.pitch[0] - 60)
    assert set(changed.key.tolist()) == {(9 + 7 * shift) % 12}
    scale = np.exp(changed.log_period[0] - np.log(0.5))
    assert np.median(np.diff(changed.onset)) == pytest.approx(0.5 * scale, rel=0.1)
    added = augment(example(), rng, Augmentation(extra=0.5))
    assert (added.hand == IGNORE).any() and len(added.onset) > 40


def test_augmentation_can_end_notes_where_the_pedal_does_as_a_transcription_hears_them():
    rng = np.random.default_rng(1)
    fixed = Augmentation(tempo=(1.0, 1.0), jitter_s=0.0, drop=0.0, extra=0.0, velocity_scale=(1.0, 1.0))
    lengths = np.array([np.median(augment(example(), rng, fixed).offset - np.arange(40) * 0.5) for _ in range(20)])
    released = np.abs(lengths - 0.4) < 0.15  # key release; otherwise the pedal's end at 0.9, within the noise
    assert released.any() and not released.all() and np.all(np.abs(lengths[~released] - 0.9) < 0.2)


def test_a_spurious_note_struck_with_a_beat_note_is_on_the_beat():
    rng = np.random.default_rng(2)
    added = augment(example(), rng, Augmentation(tempo=(1.0, 1.0), jitter_s=0.0, drop=0.0, extra=0.5))
    spurious = added.hand == IGNORE
    on_grid = np.abs(added.onset / 0.5 - np.round(added.onset / 0.5)) * 0.5 <= 0.035
    assert spurious.any() and np.array_equal(added.beat[spurious] == 1, on_grid[spurious])


def test_crops_come_from_the_extra_examples_at_the_share_asked():
    rng = np.random.default_rng(0)
    asap, extra = [example()], [replace(example(), key=np.full(40, 4))]
    crops = random_crops(asap, rng, 400, 20, Augmentation(transpose=0), extra, extra_share=0.25)
    share = np.mean([c.key[0] == 4 for c in crops])
    assert 0.18 < share < 0.32
    assert all(c.key[0] == 9 for c in random_crops(asap, rng, 20, 20, Augmentation(transpose=0)))


def test_checkpoint_carries_its_config(tmp_path):
    net = RhythmNet(RhythmConfig(hidden=8, layers=1, time_signatures=("3/4", "6/8")))
    save_rhythm_checkpoint(tmp_path / "r.pt", net)
    loaded = load_rhythm_net(tmp_path / "r.pt")
    assert loaded.config.hidden == 8 and loaded.config.time_signatures == ("3/4", "6/8")
    prediction = predict_rhythm(loaded, [Note(0.0, 0.4, 60), Note(0.5, 0.9, 62)])
    assert prediction.time_signature.shape == (2, 2) and prediction.key.shape == (2, 12)


def test_an_ensemble_checkpoint_averages_its_members_logits(tmp_path):
    torch.manual_seed(0)
    members = [RhythmNet(RhythmConfig(hidden=8, layers=1)).eval() for _ in range(3)]
    for number, member in enumerate(members):
        save_rhythm_checkpoint(tmp_path / f"m{number}.pt", member, {"seed": number})
    write_ensemble([tmp_path / f"m{number}.pt" for number in range(3)], tmp_path / "ensemble.pt")
    ensemble = load_rhythm_net(tmp_path / "ensemble.pt")
    assert isinstance(ensemble, RhythmEnsemble) and len(ensemble.members) == 3
    assert [m["seed"] for m in ensemble.config.provenance["ensemble"]] == [0, 1, 2]
    notes = [Note(0.5 * i, 0.5 * i + 0.4, 60 + i) for i in range(6)]
    features = torch.from_numpy(note_features(notes))[None]
    with torch.inference_mode():
        expected = torch.stack([m(features)["log_period"] for m in members]).mean(0)[0].numpy()
    period = predict_rhythm(ensemble, notes).period
    np.testing.assert_allclose(np.log(period), expected, atol=1e-2)  # members saved in float16
    single = predict_rhythm(load_rhythm_net(tmp_path / "m0.pt"), notes).period
    assert not np.allclose(period, single, atol=1e-3)  # the average, not one member


def test_ensemble_members_must_name_the_same_time_signatures():
    with pytest.raises(ValueError, match="same time signatures"):
        RhythmEnsemble([RhythmNet(RhythmConfig(hidden=8, layers=1)),
                        RhythmNet(RhythmConfig(hidden=8, layers=1, time_signatures=("3/4", "6/8")))])


def test_a_missing_checkpoint_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="rhythm_training"):
        load_rhythm_net(tmp_path / "none.pt")


def waltz_prediction(notes: list[Note], beat: np.ndarray, period: float = 0.5) -> RhythmPrediction:
    """A network's outputs for `notes`: beat probabilities `beat`, every third note a downbeat, all in 3/4."""
    n = len(notes)
    ts = np.zeros((n, 8))
    ts[:, 1] = 1.0
    return RhythmPrediction(
        beat=beat, downbeat=(np.arange(n) % 3 == 1).astype(float), period=np.full(n, period),
        hand=(np.array([x.pitch for x in notes]) > 60).astype(float), time_signature=ts,
        key=np.full((n, 12), 1 / 12), time_signatures=("2/4", "3/4", "4/4", "2/2", "3/8", "6/8", "9/8", "12/8"),
    )


def test_decoding_fills_a_missed_beat_and_reads_the_bar_from_downbeats():
    notes = [Note(i * 0.5, i * 0.5 + 0.3, 48 if i % 3 == 0 else 72, 70) for i in range(12)]
    beat = np.ones(12)
    beat[4] = 0.1  # one beat the network missed
    prediction = waltz_prediction(notes, beat)  # in 3/4
    beats = decode_beats(notes, prediction)
    assert np.allclose(beats[:12], np.arange(12) * 0.5)
    meter = decode_meter(notes, prediction, beats)
    assert meter.time_signature == "3/4" and meter.first_downbeat == 1
    assert decode_hands(notes, prediction) == [int(x.pitch > 60) for x in notes]


def test_the_beat_source_picks_the_tracker_or_the_networks_beats():
    torch.manual_seed(0)
    net = RhythmNet(RhythmConfig(hidden=8, layers=1)).eval()
    notes = [Note(i * 0.5, i * 0.5 + 0.3, 60 + i % 5, 70) for i in range(16)]
    network = analyse_rhythm(notes, net, beat_source=0.5).beats
    assert np.array_equal(network, decode_beats(notes, predict_rhythm(net, notes), 0.5))
    assert np.array_equal(analyse_rhythm(notes, net, beat_source=None).beats, beat_times(notes))


def test_a_users_tempo_fills_the_beats_a_network_heard_at_half_speed():
    notes = [Note(i * 0.5, i * 0.5 + 0.3, 60, 70) for i in range(16)]
    slow = waltz_prediction(notes, (np.arange(16) % 2 == 0).astype(float), period=1.0)  # every other beat
    assert np.allclose(np.diff(decode_beats(notes, slow, 0.5)[:8]), 1.0)
    hinted = with_tempo(slow, 0.5)
    assert np.allclose(np.diff(decode_beats(notes, hinted, 0.5)[:16]), 0.5)


def test_a_users_tempo_keeps_the_networks_rubato():
    notes = [Note(i * 0.5, i * 0.5 + 0.3, 60, 70) for i in range(3)]
    slowing = replace(waltz_prediction(notes, np.ones(3)), period=np.array([0.4, 0.5, 0.6]))
    assert np.allclose(with_tempo(slowing, 1.0).period, [0.8, 1.0, 1.2])


def test_a_users_time_signature_holds_for_the_whole_piece():
    torch.manual_seed(0)
    net = RhythmNet(RhythmConfig(hidden=8, layers=1)).eval()
    notes = [Note(i * 0.5, i * 0.5 + 0.3, 60 + i % 5, 70) for i in range(48)]
    meter = analyse_rhythm(notes, net, meter_changes=True, hint=RhythmHint(None, "6/8")).meter
    assert meter.time_signature == "6/8" and meter.changes == ()


def test_a_users_tempo_reaches_the_beats_through_the_scaled_periods():
    torch.manual_seed(0)
    net = RhythmNet(RhythmConfig(hidden=8, layers=1)).eval()
    notes = [Note(i * 0.3, i * 0.3 + 0.2, 60 + i % 7, 70) for i in range(30)]
    hinted = analyse_rhythm(notes, net, beat_source=0.5, hint=RhythmHint(100.0, None)).beats
    assert np.array_equal(hinted, decode_beats(notes, with_tempo(predict_rhythm(net, notes), 0.6), 0.5))


def test_an_unsure_key_vote_is_settled_by_the_pitch_classes():
    e_flat_major = [63, 65, 67, 68, 70, 72, 74, 75, 70, 67, 63, 58]
    notes = [Note(0.25 * i, 0.25 * i + 0.2, p, 70) for i, p in enumerate(e_flat_major)]
    unsure = waltz_prediction(notes, np.ones(len(notes)))  # every key signature equally likely
    key = decode_key(notes, unsure)
    assert (key.fifths, key.mode, key.tonic) == (-3, "major", 3)
    sure_of_c = replace(unsure, key=np.tile(np.eye(12)[0] * 0.99 + 0.01 / 12, (len(notes), 1)))
    assert decode_key(notes, sure_of_c).fifths == 0  # a confident vote is not overruled


def test_pitch_classes_played_equally_leave_the_key_to_the_network():
    chromatic = [Note(0.25 * i, 0.25 * i + 0.25, 60 + i, 70) for i in range(12)]
    vote = waltz_prediction(chromatic, np.ones(12))
    sure_of_d = replace(vote, key=np.tile(np.eye(12)[2] * 0.9 + 0.1 / 12, (12, 1)))  # two sharps
    assert decode_key(chromatic, sure_of_d).fifths == 2
