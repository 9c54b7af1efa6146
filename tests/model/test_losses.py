import pytest
import torch

from notestream.model.losses import focal_bce


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
