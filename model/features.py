"""Log-mel features: one torch implementation shared by training, offline and streaming inference."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the log-mel front end; stored in every checkpoint so inference matches training."""

    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 256
    n_mels: int = 229
    fmin: float = 30.0
    fmax: float = 8000.0
    log_offset: float = 1e-5
    # samples of audio after frame i's time (i * hop) that its window reaches; None: n_fft // 2, a Hann window
    # centred on the frame. Fewer give an asymmetric window (long past, short future): less latency, same n_fft.
    future_samples: int | None = None

    def __post_init__(self) -> None:
        if self.future_samples is not None and not 0 < self.future_samples <= self.n_fft // 2:
            raise ValueError(f"future_samples must be in 1..{self.n_fft // 2}, not {self.future_samples}")

    @property
    def frame_rate(self) -> float:
        return self.sample_rate / self.hop_length

    @property
    def pad_after(self) -> int:
        """Samples after frame i's time that its window needs (zeros after the last sample offline)."""
        return self.n_fft // 2 if self.future_samples is None else self.future_samples

    @property
    def pad_before(self) -> int:
        """Zeros added before the first sample so frame i's window peaks at sample i * hop."""
        return self.n_fft - self.pad_after

    def n_frames(self, n_samples: int) -> int:
        return n_samples // self.hop_length + 1

    def to_dict(self) -> dict:
        return asdict(self)


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    mel = hz / f_sp
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    log_part = min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep
    return np.where(hz >= min_log_hz, log_part, mel)


def _mel_to_hz(mel: np.ndarray) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3
    min_log_hz, min_log_mel, logstep = 1000.0, 1000.0 / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def analysis_window(config: FeatureConfig) -> torch.Tensor:
    """The STFT window, shape (n_fft,): a periodic Hann, or with `future_samples` an asymmetric one that rises
    as half a Hann over the past `pad_before` samples and falls as half a Hann over the last `pad_after`,
    scaled to the Hann's energy so stationary sounds keep their level."""
    hann = torch.hann_window(config.n_fft)
    if config.future_samples is None:
        return hann
    rise, fall = config.pad_before, config.pad_after
    rising = 0.5 - 0.5 * torch.cos(torch.pi * torch.arange(rise, dtype=torch.float64) / rise)
    falling = 0.5 + 0.5 * torch.cos(torch.pi * torch.arange(fall, dtype=torch.float64) / fall)
    window = torch.cat([rising, falling])
    window *= torch.sqrt(hann.double().square().sum() / window.square().sum())
    return window.float()


def mel_filterbank(config: FeatureConfig, semitones: int = 0) -> np.ndarray:
    """Slaney-normalised triangular mel filters, shape (n_mels, n_fft // 2 + 1).

    With `semitones`, each filter reads the spectrum where the audio raised by that many semitones would put
    its energy (an FFT bin at f counts as f * 2^(semitones/12)): the features of the pitch-shifted audio,
    from the same STFT, with nothing resampled.
    """
    fft_freqs = np.linspace(0, config.sample_rate / 2, config.n_fft // 2 + 1) * 2.0 ** (semitones / 12)
    mel_points = np.linspace(_hz_to_mel(config.fmin), _hz_to_mel(config.fmax), config.n_mels + 2)
    hz_points = _mel_to_hz(mel_points)
    lower, centre, upper = hz_points[:-2, None], hz_points[1:-1, None], hz_points[2:, None]
    rising = (fft_freqs[None, :] - lower) / (centre - lower)
    falling = (upper - fft_freqs[None, :]) / (upper - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (upper - lower))
    return weights.astype(np.float32)


class LogMelExtractor(nn.Module):
    """Audio (..., samples) at `config.sample_rate` -> log-mel frames (..., frames, n_mels).

    Frame i's window peaks at sample i * hop (zeros padded: `pad_before` samples before, `pad_after` after), so a
    signal of N samples gives N // hop + 1 frames; `semitones` gives the features of the audio pitch-shifted, and a
    tuple of shifts gives each shift's n_mels features side by side (n_mels * len(shifts)) from one STFT.
    `frames_from_padded` is the shared core used by the streaming extractor on its own buffer.
    """

    def __init__(self, config: FeatureConfig, semitones: int | tuple[int, ...] = 0):
        super().__init__()
        self.config = config
        shifts = (semitones,) if isinstance(semitones, int) else tuple(semitones)
        filters = np.concatenate([mel_filterbank(config, s) for s in shifts])
        self.register_buffer("window", analysis_window(config), persistent=False)
        self.register_buffer("filters", torch.from_numpy(filters), persistent=False)

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        pads = (self.config.pad_before, self.config.pad_after)
        padded = nn.functional.pad(audio.unsqueeze(0) if audio.dim() == 1 else audio, pads)
        frames = self.frames_from_padded(padded)
        return frames[0] if audio.dim() == 1 else frames

    def frames_from_padded(self, padded: torch.Tensor) -> torch.Tensor:
        """Frames of an already padded batch (batch, samples); frame i starts at sample i * hop.

        Always float32, also under autocast: power spectra overflow half precision (NaN features).
        """
        cfg = self.config
        if padded.shape[-1] < cfg.n_fft:
            return padded.new_zeros(padded.shape[0], 0, self.filters.shape[0])
        with torch.autocast(padded.device.type, enabled=False):
            spec = torch.stft(
                padded.float(), cfg.n_fft, cfg.hop_length, window=self.window, center=False, return_complex=True
            )
            power = spec.real.square() + spec.imag.square()
            mel = torch.matmul(self.filters, power)
            return torch.log(mel + cfg.log_offset).transpose(-1, -2)


@functools.lru_cache(maxsize=8)
def shared_extractor(config: FeatureConfig, semitones: tuple[int, ...]) -> LogMelExtractor:
    """The one extractor of a feature config and view set that every stream shares (it holds no stream state):
    its filterbank is 4.7 MB with five views, built once instead of per live session."""
    return LogMelExtractor(config, semitones)


class StreamingLogMel:
    """Feeds audio chunks of any size; yields exactly the frames `LogMelExtractor` gives the whole signal."""

    def __init__(self, extractor: LogMelExtractor):
        self.extractor = extractor
        self.config = extractor.config
        self._buffer = np.zeros(self.config.pad_before, dtype=np.float32)
        self._frames_done = 0
        self._samples_in = 0

    @property
    def frames_done(self) -> int:
        return self._frames_done

    def push(self, chunk: np.ndarray) -> torch.Tensor:
        """Add samples; return the new frames (n, n_mels) that are now complete."""
        chunk = np.asarray(chunk, dtype=np.float32).reshape(-1)
        self._samples_in += chunk.size
        self._buffer = np.concatenate([self._buffer, chunk])
        return self._drain()

    def flush(self) -> torch.Tensor:
        """End of stream: pad the tail as the offline extractor does and return the remaining frames."""
        self._buffer = np.concatenate([self._buffer, np.zeros(self.config.pad_after, dtype=np.float32)])
        total = self.config.n_frames(self._samples_in)
        frames = self._drain()
        return frames[: max(0, total - (self._frames_done - frames.shape[0]))]

    def _drain(self) -> torch.Tensor:
        cfg = self.config
        n_ready = 0 if self._buffer.size < cfg.n_fft else (self._buffer.size - cfg.n_fft) // cfg.hop_length + 1
        if n_ready == 0:
            return torch.zeros(0, self.extractor.filters.shape[0])
        used = (n_ready - 1) * cfg.hop_length + cfg.n_fft
        with torch.no_grad():
            frames = self.extractor.frames_from_padded(torch.from_numpy(self._buffer[:used]).unsqueeze(0))[0]
        self._buffer = self._buffer[n_ready * cfg.hop_length:]
        self._frames_done += n_ready
        return frames
