"""Augmentations keep length, stay in range, and each one actually changes the audio."""

import numpy as np
import pytest
import torch

from model.data.augment import AugmentConfig, augment_batch, band_eq, eq_tilt, fft_size, reverb

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


@pytest.mark.parametrize(("audio_len", "response_len"), [(16000, 3001), (65280, 32000), (1000, 7)])
def test_fully_wet_reverb_is_the_linear_convolution_without_wraparound(audio_len, response_len):
    gen = torch.Generator().manual_seed(3)
    audio, response = torch.randn(audio_len, generator=gen), torch.randn(response_len, generator=gen)
    direct = np.convolve(audio.double().numpy(), response.double().numpy())[:audio_len]
    direct *= np.sqrt(np.mean(audio.double().numpy() ** 2) / np.mean(direct ** 2))
    np.testing.assert_allclose(reverb(audio, response, 1.0).numpy(), direct, atol=2e-4 * np.abs(direct).max())


@pytest.mark.parametrize("n", [1, 2, 97, 16000, 65280, 97280])
def test_fft_sizes_cover_the_length_and_have_only_small_prime_factors(n):
    size = fft_size(n)
    assert n <= size < 1.3 * n + 8
    for p in (2, 3, 5):
        while size % p == 0:
            size //= p
    assert size == 1
