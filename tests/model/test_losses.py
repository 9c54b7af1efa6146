import pytest
import torch

from notestream.model.losses import LossConfig, focal_bce, onset_pos_weights, onset_weights


@pytest.mark.parametrize("gamma", [0.0, 0.5, 1.0, 2.0])
def test_focal_bce_gradient_stays_finite_where_the_sigmoid_saturates(gamma):
    logits = torch.tensor([40.0, -40.0, 40.0, -40.0, 0.3], requires_grad=True)
    targets = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0])
    loss = focal_bce(logits, targets, gamma=gamma, pos_weight=3.0)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(logits.grad).all()
    # confidently wrong predictions still pull hard; confidently right ones barely
    assert logits.grad[2] > 0.1 and logits.grad[3] < -0.1
    assert abs(logits.grad[0]) < 1e-6


def test_lower_focal_gamma_weighs_easy_examples_more():
    logits = torch.tensor([2.0])
    targets = torch.tensor([1.0])
    losses = [focal_bce(logits, targets, gamma=g, pos_weight=1.0).item() for g in (0.0, 0.5, 1.0, 2.0)]
    assert losses == sorted(losses, reverse=True)


def test_bass_onset_weight_scales_the_onset_positives_of_midi_21_to_35_only():
    weights = onset_pos_weights(LossConfig(onset_pos_weight=4.0, bass_onset_weight=3.0))
    assert weights.shape == (88,)
    assert (weights[:15] == 12.0).all()  # MIDI 21-35
    assert (weights[15:] == 4.0).all()  # MIDI 36 and up


def test_a_missed_bass_onset_pulls_harder_than_a_missed_treble_onset_when_the_bass_is_weighted():
    logits = torch.full((1, 2, 88), -2.0, requires_grad=True)
    targets = torch.zeros(1, 2, 88)
    targets[0, 0, 0] = targets[0, 0, 60] = 1.0
    focal_bce(logits, targets, gamma=0.5, pos_weight=onset_pos_weights(LossConfig(bass_onset_weight=2.0))).backward()
    assert logits.grad[0, 0, 0] == pytest.approx(2 * logits.grad[0, 0, 60].item())
    assert logits.grad[0, 1, 0] == pytest.approx(logits.grad[0, 1, 60].item())  # negatives unchanged


def test_the_bass_weight_reaches_up_to_bass_top_pitch():
    weights = onset_pos_weights(LossConfig(onset_pos_weight=4.0, bass_onset_weight=3.0, bass_top_pitch=47))
    assert (weights[:27] == 12.0).all()  # MIDI 21-47
    assert (weights[27:] == 4.0).all()


def test_soft_onset_weight_scales_the_onsets_below_velocity_48_only():
    velocity = torch.zeros(1, 3, 88)
    velocity[0, 0, 40], velocity[0, 1, 40], velocity[0, 2, 40] = 47 / 127, 48 / 127, 100 / 127
    weights = onset_weights(LossConfig(onset_pos_weight=4.0, soft_onset_weight=2.0), velocity)
    assert weights.shape == (1, 3, 88)
    assert weights[0, 0, 40] == 8.0  # a p onset
    assert weights[0, 1, 40] == weights[0, 2, 40] == 4.0  # mp and f onsets
    plain = onset_weights(LossConfig(onset_pos_weight=4.0), velocity)
    assert (plain == 4.0).all()


def test_a_missed_soft_onset_pulls_harder_than_a_missed_loud_one_and_negatives_are_unchanged():
    logits = torch.full((1, 2, 88), -2.0, requires_grad=True)
    targets, velocity = torch.zeros(1, 2, 88), torch.zeros(1, 2, 88)
    targets[0, 0, 50] = targets[0, 0, 60] = 1.0
    velocity[0, 0, 50], velocity[0, 0, 60] = 30 / 127, 90 / 127
    config = LossConfig(soft_onset_weight=3.0)
    focal_bce(logits, targets, gamma=0.5, pos_weight=onset_weights(config, velocity)).backward()
    assert logits.grad[0, 0, 50] == pytest.approx(3 * logits.grad[0, 0, 60].item())
    assert logits.grad[0, 1, 50] == pytest.approx(logits.grad[0, 1, 60].item())
