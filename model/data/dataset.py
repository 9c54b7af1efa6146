"""Training batches: random crops of rendered (or MAESTRO) segments with frame labels, augmented."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..features import FeatureConfig
from ..notes import Note
from ..pianoroll import frame_labels
from .corpus import Segment, iter_segments
from .music21_corpus import ID_PREFIX as MUSIC21_ID_PREFIX


@dataclass
class Batch:
    """Audio (batch, samples) and labels (batch, frames, 88) / pedal (batch, frames)."""

    audio: torch.Tensor
    onset: torch.Tensor
    offset: torch.Tensor
    frame: torch.Tensor
    velocity: torch.Tensor
    pedal: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(*(getattr(self, k).to(device, non_blocking=True) for k in ("audio", "onset", "offset", "frame", "velocity", "pedal")))


def segment_example(segment: Segment, start_frame: int, n_frames: int, features: FeatureConfig) -> dict[str, np.ndarray]:
    """Audio and labels for frames [start_frame, start_frame + n_frames) of a segment."""
    hop = features.hop_length
    n_samples = (n_frames - 1) * hop
    audio = segment.audio[start_frame * hop: start_frame * hop + n_samples].astype(np.float32) / 32768.0
    audio = np.pad(audio, (0, n_samples - audio.size))
    shift = start_frame / features.frame_rate
    notes = [Note(n.onset - shift, n.offset - shift, n.pitch, n.velocity) for n in segment.notes]
    pedals = [type(p)(p.onset - shift, p.offset - shift) for p in segment.pedals]
    labels = frame_labels(notes, pedals, n_frames, features.frame_rate)
    return {"audio": audio, "onset": labels.onset, "offset": labels.offset, "frame": labels.frame,
            "velocity": labels.velocity, "pedal": labels.pedal}


def collate(examples: list[dict[str, np.ndarray]]) -> Batch:
    keys = ("audio", "onset", "offset", "frame", "velocity", "pedal")
    return Batch(*(torch.from_numpy(np.stack([e[k] for e in examples])) for k in keys))


class CropSampler:
    """Draws random fixed-length crops from one or more splits held in memory (int16 audio), each segment
    in proportion to its length; `splits` may name the same segments heard on other pianos
    (e.g. `train,train-salamander`)."""

    def __init__(self, root: Path, splits: str | tuple[str, ...], features: FeatureConfig, crop_frames: int, seed: int):
        self.root = root
        self.splits = (splits,) if isinstance(splits, str) else tuple(splits)
        self.features, self.crop_frames = features, crop_frames
        self.rng = np.random.default_rng(seed)
        self.segments: list[Segment] = []
        self._known: set[tuple[str, str]] = set()
        self.refresh()
        if not self.segments:
            raise FileNotFoundError(f"{', '.join(str(root / s) for s in self.splits)}: no segments")

    def segments_by_source(self) -> dict[str, int]:
        """Segments per source: `music21` for the music21 corpus's scores, `performance` for the rest."""
        counts: dict[str, int] = {}
        for seg in self.segments:
            source = "music21" if seg.segment_id.startswith(MUSIC21_ID_PREFIX) else "performance"
            counts[source] = counts.get(source, 0) + 1
        return counts

    def refresh(self) -> int:
        """Load segments that appeared since the last call (rendering may still be running); returns the count."""
        for split in self.splits:
            for seg in iter_segments(self.root, split, self.features.sample_rate):
                if (split, seg.segment_id) not in self._known:
                    self._known.add((split, seg.segment_id))
                    self.segments.append(seg)
        frames = np.array([self.features.n_frames(s.audio.size) for s in self.segments], dtype=np.float64)
        self.weights = frames / frames.sum() if len(frames) else frames
        return len(self.segments)

    def batch(self, size: int) -> Batch:
        examples = []
        for idx in self.rng.choice(len(self.segments), size=size, p=self.weights):
            seg = self.segments[idx]
            last = max(0, self.features.n_frames(seg.audio.size) - self.crop_frames)
            examples.append(segment_example(seg, int(self.rng.integers(0, last + 1)), self.crop_frames, self.features))
        return collate(examples)
