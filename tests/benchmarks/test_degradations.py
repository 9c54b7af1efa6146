"""Recording conditions for the robustness bench: real codecs re-aligned, noise at its SNR, image-source rooms."""

from __future__ import annotations

import numpy as np
import pytest

from notestream_bench.degradations import (
    CONDITIONS,
    add_noise,
    align_to,
    codec_round_trip,
)

RATE = 16000


def _piano_like(seconds: float = 3.0) -> np.ndarray:
    """Decaying harmonic tones with sharp attacks every half second."""
    t = np.arange(int(seconds * RATE)) / RATE
    audio = np.zeros_like(t)
    for k, start in enumerate(np.arange(0.2, seconds - 0.3, 0.5)):
        local = np.clip(t - start, 0, None)
        f0 = 220.0 * 2 ** (k / 12)
        audio += (t >= start) * np.exp(-3 * local) * sum(np.sin(2 * np.pi * h * f0 * local) / h for h in (1, 2, 3))
    return (0.2 * audio / np.abs(audio).max()).astype(np.float32)


@pytest.mark.parametrize("name", sorted(CONDITIONS))
def test_every_condition_keeps_length_and_loudness(name):
    audio = _piano_like()
    degraded = CONDITIONS[name].apply(audio, RATE, 7)
    assert degraded.shape == audio.shape and degraded.dtype == np.float32 and np.isfinite(degraded).all()
    rms = lambda x: float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))  # noqa: E731
    assert rms(degraded) == pytest.approx(rms(audio), rel=0.02)


@pytest.mark.parametrize("name", ["living-room", "hall", "phone"])
def test_a_click_heard_through_a_room_arrives_when_it_was_played(name):
    audio = np.zeros(2 * RATE, dtype=np.float32)
    audio[RATE] = 0.5  # the hall's microphone is 9 m from the piano: 27 ms of flight the references do not have
    degraded = CONDITIONS[name].apply(audio, RATE, 7)
    assert abs(int(np.argmax(np.abs(degraded))) - RATE) <= 2


def test_a_codec_with_priming_samples_is_re_aligned_to_the_original():
    audio = np.zeros(2 * RATE, dtype=np.float32)
    clicks = np.arange(2000, 2 * RATE - 2000, 4001)
    audio[clicks] = 0.8
    decoded = codec_round_trip(audio, RATE, "aac", "mp4", 64_000)  # MP4 here keeps AAC's 1024 priming samples
    peaks = [int(np.argmax(np.abs(decoded[c - 200: c + 200]))) + c - 200 for c in clicks]
    assert np.abs(np.array(peaks) - clicks).max() <= 2


def test_align_to_finds_a_known_delay():
    original = np.random.default_rng(0).standard_normal(RATE).astype(np.float32)
    delayed = np.concatenate([np.zeros(777, np.float32), original])
    np.testing.assert_array_equal(align_to(delayed, original), original)


def test_noise_is_added_at_the_requested_snr_and_is_reproducible():
    audio = _piano_like()
    noisy = add_noise(audio, 20.0, seed=3)
    noise = noisy.astype(np.float64) - audio
    snr = 10 * np.log10(np.mean(audio.astype(np.float64) ** 2) / np.mean(noise ** 2))
    assert snr == pytest.approx(20.0, abs=0.05)
    np.testing.assert_array_equal(noisy, add_noise(audio, 20.0, seed=3))
    assert not np.array_equal(noisy, add_noise(audio, 20.0, seed=4))
