"""Net2WiderNet widening: a wider network starts out computing what the trained narrow one computes."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from notestream.model.config import ModelConfig
from notestream.model.gcn import normalized_adjacency
from notestream.model.network import CRGCN
from notestream.model.widening import widen_state_dict, widening_error
from tests.model.model_fixtures import DEFAULT_WINDOW, small_model


def _adjacency() -> np.ndarray:
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 5, size=(88, 88)).astype(np.float64)
    return normalized_adjacency(counts + counts.T + np.diag(rng.integers(5, 20, size=88)), 0.3)


def _widen(narrow: CRGCN, fc: int, hidden: int, seed: int = 0, channel_factors: tuple[int, int, int] = (1, 1, 1)) -> CRGCN:
    channels = tuple(c * f for c, f in zip(narrow.config.cnn_channels, channel_factors, strict=True))
    config = replace(narrow.config, cnn_channels=channels, cnn_fc=fc, rnn_hidden=hidden)
    state = widen_state_dict(narrow.state_dict(), narrow.config, config, torch.Generator().manual_seed(seed))
    adjacency = narrow.head.adjacency.numpy() if hasattr(narrow.head, "adjacency") else None
    wide = CRGCN(config, 229, adjacency)
    wide.load_state_dict(state)
    return wide.eval()


def _perturb(model: CRGCN) -> None:
    """Non-zero GCN output layers (so the residual head's graph part is widened too) and non-trivial
    batch-norm statistics (so copied channels must carry theirs)."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        for name, buffer in model.named_buffers():
            if name.endswith(("running_mean", "running_var")):
                buffer.add_(0.3 * torch.rand_like(buffer))


@pytest.mark.parametrize("head", [{"label_head": "gcn"}, {"label_head": "gcn", "gcn_residual": True},
                                  {"label_head": "linear"}])
@pytest.mark.parametrize("channel_factors", [(1, 1, 1), (2, 3, 2)])
def test_a_widened_network_gives_the_narrow_ones_outputs(head, channel_factors):
    narrow = small_model(adjacency=_adjacency(), **head).model
    _perturb(narrow)
    wide = _widen(narrow, 2 * narrow.config.cnn_fc, 3 * narrow.config.rnn_hidden, channel_factors=channel_factors)
    assert wide.rnn.forward_rnn.hidden_size == 3 * narrow.config.rnn_hidden
    assert wide.cnn.stack[4].out_channels == narrow.config.cnn_channels[1] * channel_factors[1]
    mel = torch.randn(2, 50, 229)
    with torch.no_grad():
        before, after = narrow(mel, DEFAULT_WINDOW), wide(mel, DEFAULT_WINDOW)
    for name in before:
        torch.testing.assert_close(after[name], before[name], atol=1e-5, rtol=1e-4)


def test_copies_of_a_unit_get_different_gradients_so_training_can_tell_them_apart():
    narrow = small_model(adjacency=_adjacency()).model
    wide = _widen(narrow, narrow.config.cnn_fc, 2 * narrow.config.rnn_hidden, channel_factors=(2, 1, 1)).train()
    outputs = wide(torch.randn(2, 40, 229), DEFAULT_WINDOW)
    sum(v.pow(2).mean() for v in outputs.values()).backward()
    grad = wide.rnn.forward_rnn.weight_hh_l0.grad
    hidden = narrow.config.rnn_hidden
    original, copy = grad[:hidden], grad[hidden: 2 * hidden]  # the reset gate's rows of unit u and its copy
    assert not torch.allclose(original, copy)
    conv = wide.cnn.stack[0].weight.grad  # first-layer channel c and its copy c + c1
    c1 = narrow.config.cnn_channels[0]
    assert not torch.allclose(conv[:c1], conv[c1:])


def test_only_the_cnn_fc_and_gru_sizes_may_grow_and_by_whole_multiples():
    base = ModelConfig(cnn_fc=32, rnn_hidden=16)
    assert widening_error(base, replace(base, cnn_fc=64, rnn_hidden=32, adjacency_tau=0.3)) is None
    assert widening_error(base, replace(base, cnn_channels=(32, 32, 64))) is None
    assert "not a multiple" in widening_error(base, replace(base, rnn_hidden=24))
    assert "not a multiple" in widening_error(base, replace(base, cnn_fc=16))
    assert "not a multiple" in widening_error(base, replace(base, cnn_channels=(16, 24, 32)))
    assert "must match" in widening_error(base, replace(base, gcn_hidden=(64, 128), rnn_hidden=32))
    assert "must match" in widening_error(base, replace(base, gcn_residual=True, rnn_hidden=32))
    with pytest.raises(ValueError, match="cannot widen"):
        widen_state_dict({}, base, replace(base, rnn_hidden=20))
