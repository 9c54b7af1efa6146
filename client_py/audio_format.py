"""The PCM format a client declares in `start`, and conversions between samples and wire bytes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ENCODINGS = {"pcm_s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


@dataclass(frozen=True)
class AudioFormat:
    """Interleaved PCM: samples per second, sample encoding ('pcm_s16le' or 'f32le'), channel count."""

    sample_rate: int
    encoding: str = "f32le"
    channels: int = 1

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unknown encoding {self.encoding!r}; use one of {', '.join(ENCODINGS)}")
        if self.channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, not {self.channels}")
        if not 1000 <= self.sample_rate <= 384_000:
            raise ValueError(f"sample rate {self.sample_rate} Hz is out of range (1000-384000)")

    @property
    def frame_bytes(self) -> int:
        """Bytes per frame (one sample for every channel)."""
        return ENCODINGS[self.encoding].itemsize * self.channels

    @property
    def bytes_per_second(self) -> int:
        return self.frame_bytes * self.sample_rate

    def seconds(self, n_bytes: int) -> float:
        return n_bytes / self.bytes_per_second

    def start_fields(self) -> dict:
        """The format fields of the `start` message."""
        return {"sample_rate": self.sample_rate, "encoding": self.encoding, "channels": self.channels}

    def encode(self, samples: np.ndarray) -> bytes:
        """Float samples in [-1, 1] (frames x channels, or 1-D for mono) -> wire bytes."""
        samples = np.asarray(samples, dtype=np.float32)
        if self.encoding == "pcm_s16le":
            return (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        return samples.astype("<f4").tobytes()

    def decode(self, data: bytes) -> np.ndarray:
        """Wire bytes (whole frames) -> float32 frames x channels in [-1, 1]."""
        raw = np.frombuffer(data, dtype=ENCODINGS[self.encoding])
        samples = raw.astype(np.float32) / 32768.0 if self.encoding == "pcm_s16le" else raw.astype(np.float32)
        return samples.reshape(-1, self.channels)


def level_dbfs(samples: np.ndarray) -> float:
    """RMS level in dB relative to full scale (-120 for silence): what a level meter shows."""
    samples = np.asarray(samples, dtype=np.float32)
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(-120.0, 20.0 * float(np.log10(rms))) if rms > 0 else -120.0
