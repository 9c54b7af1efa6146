"""Augmentations keep length, stay in range, and each one actually changes the audio."""

import numpy as np
import pytest
import torch

from notestream.model.data.augment import (
    AugmentConfig,
    augment_batch,
    band_eq,
    coloured_noise_rows,
    eq_tilt,
    fft_size,
    reverb,
    reverb_rows,
    synthetic_room_responses,
)

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


def test_reverb_of_a_batch_is_each_rows_own_reverb():
    gen = torch.Generator().manual_seed(4)
    audio, responses = torch.randn(3, 4000, generator=gen), torch.randn(3, 900, generator=gen)
    wet = torch.tensor([0.2, 0.5, 1.0])
    rows = reverb_rows(audio, responses, wet)
    for i in range(3):
        torch.testing.assert_close(rows[i], reverb(audio[i], responses[i], float(wet[i])), atol=1e-5, rtol=1e-4)


def test_synthetic_room_responses_decay_end_at_their_own_length_and_have_unit_energy():
    gen = torch.Generator().manual_seed(5)
    rt60 = torch.tensor([0.2, 1.0, 3.0])
    responses = synthetic_room_responses(rt60, 16000, gen, gen, torch.device("cpu"))
    assert responses.shape == (3, 32000)  # the longest is cut at 2 s
    assert responses[0, 3200:].abs().max() == 0 and responses[1, 16000:].abs().max() == 0
    torch.testing.assert_close(responses.norm(dim=-1), torch.ones(3))
    early, late = responses[1, 800:4000].pow(2).mean(), responses[1, 12000:16000].pow(2).mean()
    assert early > 100 * late  # -60 dB over the RT60


def test_coloured_noise_tilts_with_its_exponent():
    gen = torch.Generator().manual_seed(6)
    noise = coloured_noise_rows(2, 32000, torch.tensor([0.0, 2.0]), gen, torch.device("cpu"))
    power = torch.fft.rfft(noise).abs().pow(2)
    low, high = power[:, 10:200].mean(dim=-1), power[:, 8000:16000].mean(dim=-1)
    assert 0.5 < float(low[0] / high[0]) < 2.0  # white: flat
    assert float(low[1] / high[1]) > 1000  # brown: 6 dB per octave down


def test_the_same_generators_give_the_same_augmentation():
    config = AugmentConfig(reverb_probability=0.5, noise_probability=0.5)
    audio = tone_batch()
    outs = [augment_batch(audio, config, 16000, torch.Generator().manual_seed(7), noise_gen=torch.Generator().manual_seed(8))
            for _ in range(2)]
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)
