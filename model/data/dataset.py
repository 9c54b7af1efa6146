"""Training batches: random crops of rendered (or MAESTRO) segments with frame labels, augmented."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from ..breakdown import chord_sizes
from ..features import FeatureConfig
from notestream.notes import MAX_PITCH, MIN_PITCH, Note, PedalSpan, extend_with_pedal
from ..pianoroll import FrameLabels, sounding_labels
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


PEDAL_HOLD_SECONDS = 8.0
CROP_MARGIN_SECONDS = 1.0  # notes this far outside a crop are still labelled, so rounding at its edges cannot differ
RESAMPLE_MARGIN = 256  # source samples read past a pitch-shifted crop, so its last samples are not filtered against zeros


def shift_ratio(semitones: int) -> Fraction:
    """Output samples per source sample that raise the pitch by `semitones` (played 2^(s/12) faster), within 2 cents.

    Labels are scaled by this exact ratio, so the small rounding only detunes, like the render's own detune."""
    return Fraction(2.0 ** (-semitones / 12)).limit_denominator(64)


def segment_example(segment: Segment, start_frame: int, n_frames: int, features: FeatureConfig,
                    semitones: int = 0, sounding: list[Note] | None = None) -> dict[str, np.ndarray]:
    """Audio and labels for frames [start_frame, start_frame + n_frames) of a segment, optionally pitch-shifted.

    A shift of `semitones` plays the audio faster or slower by resampling (timbre moves with it, as on another
    piano) and moves every note label by as many keys, its times scaled to match. `sounding` is the segment's
    notes pedal-extended (`extend_with_pedal`), when the caller keeps them to label many crops."""
    hop = features.hop_length
    n_samples = (n_frames - 1) * hop
    start = start_frame * hop
    ratio = shift_ratio(semitones)
    if semitones:
        source = segment.audio[start: start + int(n_samples / ratio) + RESAMPLE_MARGIN].astype(np.float32) / 32768.0
        audio = resample_poly(source, ratio.numerator, ratio.denominator).astype(np.float32)[:n_samples]
    else:
        audio = segment.audio[start: start + n_samples].astype(np.float32) / 32768.0
    audio = np.pad(audio, (0, n_samples - audio.size))
    if sounding is None:
        sounding = extend_with_pedal(segment.notes, segment.pedals)
    labels = crop_labels(sounding, segment.pedals, start_frame, n_frames, features.frame_rate, semitones)
    return {"audio": audio, "onset": labels.onset, "offset": labels.offset, "frame": labels.frame,
            "velocity": labels.velocity, "pedal": labels.pedal}


def crop_labels(sounding: list[Note], pedals: list[PedalSpan], start_frame: int, n_frames: int, frame_rate: float,
                semitones: int = 0) -> FrameLabels:
    """Labels of frames [start_frame, start_frame + n_frames) from a whole segment's pedal-extended notes, moved by
    `semitones` keys and their times scaled by `shift_ratio`. Only notes sounding within a second of the crop are
    labelled: the others can set no frame of it, and skipping them keeps labelling a crop cheap."""
    shift, scale = start_frame / frame_rate, float(shift_ratio(semitones))
    first, last = shift - CROP_MARGIN_SECONDS, shift + n_frames / frame_rate / scale + CROP_MARGIN_SECONDS
    notes = [Note((n.onset - shift) * scale, (n.offset - shift) * scale, n.pitch + semitones, n.velocity)
             for n in sounding if n.onset < last and n.offset > first and MIN_PITCH <= n.pitch + semitones <= MAX_PITCH]
    crop_pedals = [PedalSpan((p.onset - shift) * scale, (p.offset - shift) * scale) for p in pedals]
    return sounding_labels(notes, crop_pedals, n_frames, frame_rate)


def keyboard_shifts(notes: list[Note], start: float, end: float, max_semitones: int) -> range:
    """The shifts up to +-max_semitones that keep every note sounding in [start, end) on the 88 keys
    (a note released up to PEDAL_HOLD_SECONDS before `start` counts: the pedal may hold it)."""
    pitches = [n.pitch for n in notes if n.onset < end and n.offset > start - PEDAL_HOLD_SECONDS]
    if not pitches:
        return range(-max_semitones, max_semitones + 1)
    return range(max(-max_semitones, MIN_PITCH - min(pitches)), min(max_semitones, MAX_PITCH - max(pitches)) + 1)


@dataclass(frozen=True)
class CropEmphasis:
    """How much more often segments rich in soft notes or dense chords are drawn: a segment's weight is its
    length times 1 + soft · (share of its notes below velocity `soft_below`) + chords · (share of its notes
    in chords of `chord_notes` or more, onsets within 30 ms). Zeros: every frame equally likely."""

    soft: float = 0.0
    chords: float = 0.0
    soft_below: int = 48
    chord_notes: int = 5

    def factor(self, notes: list[Note]) -> float:
        """1 + the emphasis this segment's notes earn."""
        if not notes or (self.soft == 0 and self.chords == 0):
            return 1.0
        soft_share = np.mean([n.velocity < self.soft_below for n in notes])
        chord_share = np.mean(chord_sizes([n.onset for n in notes]) >= self.chord_notes)
        return float(1.0 + self.soft * soft_share + self.chords * chord_share)


def collate(examples: list[dict[str, np.ndarray]]) -> Batch:
    keys = ("audio", "onset", "offset", "frame", "velocity", "pedal")
    return Batch(*(torch.from_numpy(np.stack([e[k] for e in examples])) for k in keys))


class CropSampler:
    """Draws random fixed-length crops from one or more splits held in memory (int16 audio), each segment
    in proportion to its length times its `CropEmphasis` factor; `splits` may name the same segments heard on
    other pianos (e.g. `train,train-salamander`)."""

    def __init__(self, root: Path, splits: str | tuple[str, ...], features: FeatureConfig, crop_frames: int, seed: int,
                 emphasis: CropEmphasis = CropEmphasis()):
        self.root, self.emphasis = root, emphasis
        self.splits = (splits,) if isinstance(splits, str) else tuple(splits)
        self.features, self.crop_frames = features, crop_frames
        self.rng = np.random.default_rng(seed)
        self.segments: list[Segment] = []
        self.sounding: list[list[Note]] = []  # each segment's notes pedal-extended once, not once per crop
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
                    self.sounding.append(extend_with_pedal(seg.notes, seg.pedals))
        frames = np.array([self.features.n_frames(s.audio.size) * self.emphasis.factor(s.notes) for s in self.segments],
                          dtype=np.float64)
        self.weights = frames / frames.sum() if len(frames) else frames
        return len(self.segments)

    def batch(self, size: int, max_semitones: int = 0) -> Batch:
        """`size` random crops; with `max_semitones`, each is pitch-shifted by a random whole number of semitones
        in +-max_semitones that keeps its notes on the keyboard (0 included)."""
        examples = []
        for idx in self.rng.choice(len(self.segments), size=size, p=self.weights):
            seg = self.segments[idx]
            last = max(0, self.features.n_frames(seg.audio.size) - self.crop_frames)
            start_frame = int(self.rng.integers(0, last + 1))
            semitones = 0
            if max_semitones:
                start = start_frame / self.features.frame_rate
                span = self.crop_frames / self.features.frame_rate / float(shift_ratio(max_semitones))
                semitones = int(self.rng.choice(keyboard_shifts(seg.notes, start, start + span, max_semitones)))
            examples.append(segment_example(seg, start_frame, self.crop_frames, self.features, semitones,
                                            self.sounding[idx]))
        return collate(examples)
