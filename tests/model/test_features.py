"""Log-mel features: frame counts, the mel filterbank, the analysis window, and streaming == offline on any
chunking."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from notestream.model.features import (
    FeatureConfig,
    LogMelExtractor,
    StreamingLogMel,
    analysis_window,
    mel_filterbank,
)

CONFIG = FeatureConfig()
EXTRACTOR = LogMelExtractor(CONFIG)
ASYMMETRIC = FeatureConfig(future_samples=256)  # 16 ms of future audio per frame instead of 64


def offline_frames(audio: np.ndarray, extractor: LogMelExtractor = EXTRACTOR) -> torch.Tensor:
    with torch.no_grad():
        return extractor(torch.from_numpy(audio))


def streamed_frames(audio: np.ndarray, chunk_sizes: list[int], extractor: LogMelExtractor = EXTRACTOR) -> torch.Tensor:
    """Push `audio` in chunks cycling through `chunk_sizes`, then flush."""
    stream = StreamingLogMel(extractor)
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
    first_needs = CONFIG.n_fft - CONFIG.pad_before
    assert stream.push(np.zeros(first_needs - 1, dtype=np.float32)).shape[0] == 0
    assert stream.push(np.zeros(1, dtype=np.float32)).shape[0] == 1
    assert stream.push(np.zeros(CONFIG.hop_length, dtype=np.float32)).shape[0] == 1
    assert stream.frames_done == 2


def test_the_default_window_is_the_periodic_hann_centred_on_each_frame() -> None:
    assert torch.equal(analysis_window(CONFIG), torch.hann_window(CONFIG.n_fft))
    assert CONFIG.pad_before == CONFIG.pad_after == CONFIG.n_fft // 2


def test_an_asymmetric_window_peaks_at_the_frame_and_reaches_only_its_future_samples_ahead() -> None:
    window = analysis_window(ASYMMETRIC)
    assert window.shape == (ASYMMETRIC.n_fft,)
    assert (ASYMMETRIC.pad_before, ASYMMETRIC.pad_after) == (1792, 256)
    assert int(window.argmax()) == ASYMMETRIC.pad_before
    assert float(window[0]) == 0.0 and (window[1:] > 0).all()
    hann = torch.hann_window(CONFIG.n_fft)
    assert float(window.square().sum()) == pytest.approx(float(hann.square().sum()), rel=1e-5)


def test_a_click_reaches_an_asymmetric_frame_only_from_future_samples_ahead() -> None:
    audio = np.zeros(8000, dtype=np.float32)
    click = 4000  # frame i weighs samples i * hop - pad_before < s < i * hop + pad_after (its first weight is 0)
    audio[click] = 1.0
    floor = float(np.log(ASYMMETRIC.log_offset))
    for config in (CONFIG, ASYMMETRIC):
        lit = (offline_frames(audio, LogMelExtractor(config)).max(dim=1).values > floor + 1.0).nonzero()[:, 0]
        hop = config.hop_length
        assert int(lit[0]) == (click - config.pad_after) // hop + 1
        assert int(lit[-1]) == (click + config.pad_before - 1) // hop


@pytest.mark.parametrize("chunk_sizes", [[1], [320], [257, 3, 1000], [5000]])
def test_streaming_equals_offline_with_an_asymmetric_window(chunk_sizes: list[int]) -> None:
    audio = (0.3 * np.random.default_rng(3).standard_normal(12345)).astype(np.float32)
    extractor = LogMelExtractor(ASYMMETRIC)
    offline = offline_frames(audio, extractor)
    assert offline.shape[0] == ASYMMETRIC.n_frames(audio.size)
    assert float((streamed_frames(audio, chunk_sizes, extractor) - offline).abs().max()) < 1e-4


def test_an_asymmetric_stream_gives_its_first_frame_after_future_samples_of_audio() -> None:
    stream = StreamingLogMel(LogMelExtractor(ASYMMETRIC))
    assert stream.push(np.zeros(ASYMMETRIC.pad_after - 1, dtype=np.float32)).shape[0] == 0
    assert stream.push(np.zeros(1, dtype=np.float32)).shape[0] == 1


@pytest.mark.parametrize("future", [0, 1025, -3])
def test_a_window_future_outside_one_to_half_the_fft_is_refused(future: int) -> None:
    with pytest.raises(ValueError, match="future_samples must be in 1..1024"):
        FeatureConfig(future_samples=future)


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
