"""Log-mel features: frame counts, the mel filterbank, and streaming == offline on any chunking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notestream.model.features import FeatureConfig, LogMelExtractor, StreamingLogMel, mel_filterbank

CONFIG = FeatureConfig()
EXTRACTOR = LogMelExtractor(CONFIG)


def offline_frames(audio: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return EXTRACTOR(torch.from_numpy(audio))


def streamed_frames(audio: np.ndarray, chunk_sizes: list[int]) -> torch.Tensor:
    """Push `audio` in chunks cycling through `chunk_sizes`, then flush."""
    stream = StreamingLogMel(EXTRACTOR)
    parts, start, i = [], 0, 0
    while start < audio.size:
        size = chunk_sizes[i % len(chunk_sizes)]
        parts.append(stream.push(audio[start:start + size]))
        start, i = start + size, i + 1
    parts.append(stream.flush())
    return torch.cat(parts)


@pytest.mark.parametrize("n_samples", [0, 1, 255, 256, 257, 2047, 2048, 2049, 16000, 16001])
def test_frame_count_is_samples_over_hop_plus_one(n_samples: int) -> None:
    audio = np.zeros(n_samples, dtype=np.float32)
    frames = offline_frames(audio)
    assert frames.shape == (n_samples // CONFIG.hop_length + 1, CONFIG.n_mels)
    assert CONFIG.n_frames(n_samples) == frames.shape[0]


def test_default_filterbank_is_non_negative_and_every_filter_has_weight() -> None:
    filters = mel_filterbank(CONFIG)
    assert filters.shape == (CONFIG.n_mels, CONFIG.n_fft // 2 + 1)
    assert (filters >= 0).all()
    assert (filters.sum(axis=1) > 0).all(), "some mel filters cover no FFT bin"


def test_filter_centres_rise_and_stay_between_fmin_and_fmax() -> None:
    filters = mel_filterbank(CONFIG)
    bin_hz = CONFIG.sample_rate / CONFIG.n_fft
    peak_hz = filters.argmax(axis=1) * bin_hz
    assert (np.diff(peak_hz) >= 0).all()
    assert peak_hz[0] >= CONFIG.fmin - bin_hz
    assert peak_hz[-1] <= CONFIG.fmax + bin_hz


def test_a_sine_lights_the_mel_band_around_its_frequency() -> None:
    t = np.arange(CONFIG.sample_rate) / CONFIG.sample_rate
    audio = (0.5 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.float32)
    loudest_band = int(offline_frames(audio)[10:-10].mean(dim=0).argmax())
    filters = mel_filterbank(CONFIG)
    band_peak_hz = filters[loudest_band].argmax() * CONFIG.sample_rate / CONFIG.n_fft
    assert abs(band_peak_hz - 1000.0) < 40.0


def test_silence_gives_the_log_offset_floor() -> None:
    frames = offline_frames(np.zeros(4000, dtype=np.float32))
    assert torch.allclose(frames, torch.full_like(frames, float(np.log(CONFIG.log_offset))))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seconds=st.floats(min_value=0.2, max_value=2.0),
    chunk_sizes=st.lists(st.integers(min_value=1, max_value=6000), min_size=1, max_size=8),
    seed=st.integers(min_value=0, max_value=2**16),
)
def test_streaming_frames_equal_offline_frames_for_any_chunking(
    seconds: float, chunk_sizes: list[int], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    audio = (0.3 * rng.standard_normal(int(seconds * CONFIG.sample_rate))).astype(np.float32)
    offline = offline_frames(audio)
    streamed = streamed_frames(audio, chunk_sizes)
    assert streamed.shape == offline.shape
    assert float((streamed - offline).abs().max()) < 1e-4


def test_streaming_reports_frames_as_soon_as_their_window_is_complete() -> None:
    stream = StreamingLogMel(EXTRACTOR)
    # Frame i covers padded samples [i * hop, i * hop + n_fft): the first needs n_fft - pad real samples.
    first_needs = CONFIG.n_fft - CONFIG.pad
    assert stream.push(np.zeros(first_needs - 1, dtype=np.float32)).shape[0] == 0
    assert stream.push(np.zeros(1, dtype=np.float32)).shape[0] == 1
    assert stream.push(np.zeros(CONFIG.hop_length, dtype=np.float32)).shape[0] == 1
    assert stream.frames_done == 2


def test_streaming_an_empty_stream_gives_the_single_offline_frame() -> None:
    stream = StreamingLogMel(EXTRACTOR)
    tail = stream.flush()
    assert tail.shape == offline_frames(np.zeros(0, dtype=np.float32)).shape


def test_features_stay_float32_and_finite_under_half_precision_autocast():
    """Training on CUDA runs the model under fp16 autocast; the power spectrum of loud audio overflows fp16."""
    extractor = LogMelExtractor(FeatureConfig())
    audio = 0.9 * torch.sin(torch.arange(32000) * 2 * torch.pi * 440 / 16000).unsqueeze(0)
    with torch.autocast("cpu", dtype=torch.float16):
        mixed = extractor(audio)
    assert mixed.dtype == torch.float32 and torch.isfinite(mixed).all()
    assert torch.equal(mixed, extractor(audio))


def test_several_shifts_share_one_stft_and_give_each_shifts_own_features_side_by_side() -> None:
    audio = np.random.default_rng(7).standard_normal(CONFIG.sample_rate // 2).astype(np.float32)
    with torch.no_grad():
        stacked = LogMelExtractor(CONFIG, (-1, 0, 2))(torch.from_numpy(audio))
        alone = [LogMelExtractor(CONFIG, s)(torch.from_numpy(audio)) for s in (-1, 0, 2)]
    assert stacked.shape == (alone[0].shape[0], 3 * CONFIG.n_mels)
    torch.testing.assert_close(stacked, torch.cat(alone, dim=-1), atol=1e-4, rtol=1e-5)
    stream = StreamingLogMel(LogMelExtractor(CONFIG, (-1, 0, 2)))
    assert stream.push(np.zeros(10, dtype=np.float32)).shape == (0, 3 * CONFIG.n_mels)  # too short for a frame
