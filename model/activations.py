"""What the network hears: per-frame probabilities of its heads, the decoder's input."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Activations:
    """Per-frame probabilities: onset/frame/offset/velocity (frames, 88), pedal (frames,)."""

    onset: np.ndarray
    frame: np.ndarray
    offset: np.ndarray
    velocity: np.ndarray
    pedal: np.ndarray

    def __len__(self) -> int:
        return self.onset.shape[0]

    @staticmethod
    def concat(parts: list[Activations]) -> Activations:
        names = ("onset", "frame", "offset", "velocity", "pedal")
        return Activations(*(np.concatenate([getattr(p, k) for p in parts]) for k in names))

    def slice(self, start: int, stop: int | None = None) -> Activations:
        names = ("onset", "frame", "offset", "velocity", "pedal")
        return Activations(*(getattr(self, k)[start:stop] for k in names))
