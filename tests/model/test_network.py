"""The CR-GCN network: shapes, bounded look-ahead, and both label heads."""

import numpy as np
import pytest
import torch

from notestream.model.config import WindowConfig
from notestream.model.gcn import harmonic_adjacency
from notestream.model.network import CNN_CONTEXT, look_ahead_windows
from tests.model.model_fixtures import small_model


def test_outputs_have_a_value_per_frame_and_key_for_every_head():
    loaded = small_model()
    with torch.no_grad():
        out = loaded.model(torch.randn(2, 37, 229), loaded.window)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "onset": (2, 37, 88), "frame": (2, 37, 88), "offset": (2, 37, 88), "velocity": (2, 37, 88), "pedal": (2, 37)}


@pytest.mark.parametrize("hop,lookahead", [(4, 0), (4, 6), (8, 16)])
def test_a_frame_never_depends_on_audio_beyond_its_bounded_lookahead(hop, lookahead):
    window = WindowConfig(hop, lookahead)
    loaded = small_model(window)
    mel = torch.randn(1, 64, 229)
    changed = mel.clone()
    changed[:, 40:] = torch.randn(1, 24, 229)
    with torch.no_grad():
        a, b = loaded.model(mel, window)["frame"], loaded.model(changed, window)["frame"]
    differs = (a - b).abs().amax(dim=(0, 2)) > 1e-6
    # frame t sits in block t // hop, which sees up to (block end + lookahead) CNN features, each CNN_CONTEXT further.
    first_affected = min(t for t in range(64) if (t // hop + 1) * hop + lookahead + CNN_CONTEXT > 40)
    assert not differs[:first_affected].any()
    assert differs[first_affected:].any()


def test_look_ahead_windows_cut_blocks_with_future_frames_and_zero_padding():
    x = torch.arange(10, dtype=torch.float32).view(1, 10, 1)
    blocks = look_ahead_windows(x, 3, WindowConfig(4, 2))
    assert blocks[0, :, :, 0].tolist() == [[0, 1, 2, 3, 4, 5], [4, 5, 6, 7, 8, 9], [8, 9, 0, 0, 0, 0]]


def test_linear_head_ablation_has_the_same_interface_and_no_label_graph():
    loaded = small_model(label_head="linear")
    assert not hasattr(loaded.model.head, "adjacency")
    with torch.no_grad():
        out = loaded.model(torch.randn(1, 12, 229), loaded.window)
    assert out["onset"].shape == (1, 12, 88)


def test_gcn_classifiers_follow_the_adjacency():
    loaded = small_model()
    head = loaded.model.head
    weights = head.classifiers()
    assert weights.shape == (4, 88, loaded.model.config.embedding)
    assert np.isfinite(weights.detach().numpy()).all()


def test_residual_harmonic_head_starts_as_a_linear_head_with_the_same_interface():
    loaded = small_model(adjacency=harmonic_adjacency(), label_graph="harmonic", gcn_residual=True)
    head = loaded.model.head
    assert torch.equal(head.classifiers(), head.free)
    assert head.free.shape == (4, 88, loaded.model.config.embedding)
    with torch.no_grad():
        out = loaded.model(torch.randn(2, 21, 229), loaded.window)
    assert {k: tuple(v.shape) for k, v in out.items()} == {
        "onset": (2, 21, 88), "frame": (2, 21, 88), "offset": (2, 21, 88), "velocity": (2, 21, 88), "pedal": (2, 21)}


class _DeviceMixes(torch.overrides.TorchFunctionMode):
    """Records every torch call whose (non-scalar) tensor arguments sit on more than one device."""

    def __init__(self):
        super().__init__()
        self.mixed: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        leaves = torch.utils._pytree.tree_leaves((args, kwargs))
        devices = {a.device.type for a in leaves if isinstance(a, torch.Tensor) and a.dim() > 0}
        if len(devices) > 1:
            self.mixed.append(getattr(func, "__name__", str(func)))
        return func(*args, **kwargs)


def test_the_forward_pass_keeps_every_tensor_on_the_inputs_device():
    """A tensor made on the CPU inside forward breaks CUDA (it did: the look-ahead block indices); the meta
    device stands in for a GPU here, since CI has none."""
    loaded = small_model(WindowConfig(4, 6))
    model = loaded.model.to("meta")
    with _DeviceMixes() as mode:
        out = model(torch.zeros(2, 37, 229, device="meta"), loaded.window)
    assert mode.mixed == []
    assert out["frame"].device.type == "meta"
