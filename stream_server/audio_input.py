"""Client audio in: PCM bytes of any framing -> float32 frames -> mono at the model's rate.

Both stages keep state between chunks, so the model sees the same samples however the client splits
its audio (a test proves it).
"""

from __future__ import annotations

import av
import numpy as np

DTYPES = {"pcm_s16le": np.dtype("<i2"), "f32le": np.dtype("<f4")}


class PcmDecoder:
    """Bytes in the client's encoding -> interleaved float32 frames; a partial frame waits for its rest."""

    def __init__(self, encoding: str, channels: int):
        self.encoding = encoding
        self.channels = channels
        self._dtype = DTYPES[encoding]
        self._frame_bytes = self._dtype.itemsize * channels
        self._leftover = b""

    def decode(self, data: bytes) -> np.ndarray:
        """Whole frames from `data` (plus earlier leftovers), shape (frames * channels,) float32 in -1..1."""
        data = self._leftover + data
        whole = len(data) - len(data) % self._frame_bytes
        self._leftover = data[whole:]
        samples = np.frombuffer(data[:whole], dtype=self._dtype)
        if self.encoding == "pcm_s16le":
            return samples.astype(np.float32) / 32768.0
        return np.nan_to_num(samples.astype(np.float32), nan=0.0, posinf=1.0, neginf=-1.0)


class StreamResampler:
    """Interleaved float32 at `rate` with `channels` -> mono float32 at `out_rate` (libswresample via PyAV).

    The same resampler model.audio uses for files, so streamed and uploaded audio are treated alike;
    its filter state carries across calls, making the output independent of chunk sizes.
    """

    def __init__(self, rate: int, channels: int, out_rate: int):
        self.rate, self.channels, self.out_rate = rate, channels, out_rate
        self._layout = "mono" if channels == 1 else "stereo"
        self._passthrough = channels == 1 and rate == out_rate
        self._resampler = None if self._passthrough else av.AudioResampler(format="flt", layout="mono", rate=out_rate)

    def push(self, interleaved: np.ndarray) -> np.ndarray:
        """Resample the next chunk; returns whatever output is ready (may be empty)."""
        if self._passthrough or interleaved.size == 0:
            return interleaved.astype(np.float32, copy=False) if self._passthrough else np.zeros(0, np.float32)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(interleaved, np.float32).reshape(1, -1), format="flt", layout=self._layout)
        frame.sample_rate = self.rate
        return self._collect(self._resampler.resample(frame))

    def flush(self) -> np.ndarray:
        """End of audio: the samples still inside the filter."""
        if self._passthrough:
            return np.zeros(0, np.float32)
        return self._collect(self._resampler.resample(None))

    @staticmethod
    def _collect(frames: list) -> np.ndarray:
        parts = [f.to_ndarray().reshape(-1).astype(np.float32, copy=False) for f in frames]
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)
