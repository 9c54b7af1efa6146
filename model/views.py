"""Pitch-shifted views of one stream (`ViewConfig`): their features and network states, and the mean of
their activations. The one path from audio to activations for live streams, files and validation alike."""

from __future__ import annotations

import numpy as np
import torch

from notestream.notes import N_KEYS

from .activations import Activations
from .checkpoint import LoadedModel
from .config import WindowConfig
from .features import StreamingLogMel, shared_extractor
from .incremental import IncrementalNetwork, advance_networks

KEYED = ("onset", "frame", "offset", "velocity")


class PitchViews:
    """One stream seen at each of the checkpoint's pitch shifts: one STFT with a mel filterbank per view, and a
    network state per view."""

    def __init__(self, loaded: LoadedModel, window: WindowConfig):
        self.semitones, self.window = loaded.views.semitones, window
        self.n_mels = loaded.features.n_mels
        self.mel = StreamingLogMel(shared_extractor(loaded.features, tuple(self.semitones)))
        self.networks = [IncrementalNetwork(loaded, window) for _ in self.semitones]

    def mel_frames(self, audio: np.ndarray) -> list[torch.Tensor]:
        """New mel frames of every view (all views have the same frames: one STFT framing)."""
        return list(self.mel.push(audio).split(self.n_mels, dim=-1))

    def flush_audio(self) -> list[torch.Tensor]:
        return list(self.mel.flush().split(self.n_mels, dim=-1))


def advance_views(streams: list[PitchViews], mels: list[list[torch.Tensor]], finals: list[bool]) -> list[Activations]:
    """Advance every view of every stream, one batched network pass per streaming window (streams at other
    latencies cannot share a pass); each stream's combined activations."""
    by_window: dict[WindowConfig, list[int]] = {}
    for i, stream in enumerate(streams):
        by_window.setdefault(stream.window, []).append(i)
    combined: list[Activations | None] = [None] * len(streams)
    for indices in by_window.values():
        group = [streams[i] for i in indices]
        networks = [net for stream in group for net in stream.networks]
        flat_mels = [mel for i in indices for mel in mels[i]]
        flat_finals = [finals[i] for i in indices for _ in streams[i].networks]
        acts = iter(advance_networks(networks, flat_mels, flat_finals, views=len(group[0].networks)))
        for i, stream in zip(indices, group, strict=True):
            combined[i] = combine_views([next(acts) for _ in stream.networks], stream.semitones)
    return combined


def combine_views(views: list[Activations], semitones: tuple[int, ...]) -> Activations:
    """The mean of the views' activations on the audio's own keys; a key that a view's shift moves off the
    keyboard is averaged over the views that still have it (0 where none has it, as for a set like (+1, +2))."""
    if len(views) == 1 and semitones == (0,):
        return views[0]
    combined = []
    for name in KEYED:
        total, count = np.zeros_like(getattr(views[0], name)), np.zeros(N_KEYS, dtype=np.float32)
        for view, s in zip(views, semitones, strict=True):
            values, lo, hi = getattr(view, name), max(0, -s), min(N_KEYS, N_KEYS - s)
            total[:, lo:hi] += values[:, lo + s:hi + s]
            count[lo:hi] += 1
        combined.append(total / np.maximum(count, 1))
    pedal = np.mean([view.pedal for view in views], axis=0).astype(views[0].pedal.dtype)
    return Activations(*combined, pedal)


def view_activations(loaded: LoadedModel, audio: np.ndarray, window: WindowConfig | None = None) -> Activations:
    """Activations of a whole recording (mono float32), all of it pushed at once then flushed."""
    stream = PitchViews(loaded, window or loaded.window)
    with torch.inference_mode():
        first = advance_views([stream], [stream.mel_frames(audio)], [False])[0]
        last = advance_views([stream], [stream.flush_audio()], [True])[0]
    return Activations.concat([first, last])
