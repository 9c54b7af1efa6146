"""Augmentations keep length, stay in range, and each one actually changes the audio."""

import numpy as np
import pytest
import torch

from model.data.augment import AugmentConfig, augment_batch, band_eq, eq_tilt

OFF = AugmentConfig(gain=False, eq_tilt=False, band_eq=False, reverb=False, noise=False)


def tone_batch() -> torch.Tensor:
    t = torch.arange(16000) / 16000
    return torch.stack([0.5 * torch.sin(2 * np.pi * 440 * t), 0.3 * torch.sin(2 * np.pi * 220 * t)])


def test_all_switched_off_leaves_audio_unchanged():
    audio = tone_batch()
    out = augment_batch(audio, OFF, 16000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, audio)


@pytest.mark.parametrize("name", ["gain", "eq_tilt", "band_eq", "reverb", "noise"])
def test_each_augmentation_changes_the_audio_and_keeps_its_shape(name):
    config = AugmentConfig(**{**OFF.__dict__, name: True, "reverb_probability": 1.0, "noise_probability": 1.0})
    audio = tone_batch()
    out = augment_batch(audio, config, 16000, torch.Generator().manual_seed(1))
    assert out.shape == audio.shape and out.abs().max() <= 1.0
    assert (out - audio).abs().max() > 1e-3


def test_tilt_brightens_high_frequencies_when_positive():
    t = torch.arange(16000) / 16000
    high = torch.sin(2 * np.pi * 4000 * t)[None]
    assert eq_tilt(high, torch.tensor([3.0]), 16000).pow(2).mean() > high.pow(2).mean()


def test_band_eq_boosts_near_its_centre_and_leaves_far_frequencies_alone():
    t = torch.arange(16000) / 16000
    near, far = torch.sin(2 * np.pi * 1000 * t)[None], torch.sin(2 * np.pi * 100 * t)[None]
    params = torch.tensor([[1000.0]]), torch.tensor([[6.0]]), torch.tensor([[0.3]])
    ratio_db = lambda x: 10 * torch.log10(band_eq(x, *params, 16000).pow(2).mean() / x.pow(2).mean())  # noqa: E731
    assert abs(float(ratio_db(near)) - 6.0) < 0.2
    assert abs(float(ratio_db(far))) < 0.1
