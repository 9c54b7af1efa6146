"""Frame-level labels and piano rolls (88 keys, A0-C8) from notes, shared by training and evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from notestream.notes import MAX_PITCH, MIN_PITCH, N_KEYS, Note, PedalSpan, extend_with_pedal, note_name


@dataclass
class FrameLabels:
    """Targets at the model's frame rate, each (frames, 88) except pedal (frames,)."""

    onset: np.ndarray
    offset: np.ndarray
    frame: np.ndarray
    velocity: np.ndarray
    pedal: np.ndarray

    def crop(self, start: int, stop: int) -> FrameLabels:
        return FrameLabels(*(getattr(self, k)[start:stop] for k in ("onset", "offset", "frame", "velocity", "pedal")))


def frame_index(time: float, frame_rate: float) -> int:
    """The frame whose centre is nearest to `time`."""
    return int(round(time * frame_rate))


def key_index(pitch: int) -> int:
    """Column of a MIDI pitch in an 88-key roll (A0 = 0 ... C8 = 87); other pitches are an error, not a wrap."""
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise ValueError(f"pitch {pitch} ({note_name(pitch)}) is outside the piano's 88 keys A0-C8")
    return pitch - MIN_PITCH


def piano_roll(notes: list[Note], n_frames: int, frame_rate: float) -> np.ndarray:
    """Boolean (frames, 88): key sounding in each frame, from onset frame up to (not incl.) offset frame."""
    roll = np.zeros((n_frames, N_KEYS), dtype=bool)
    for n in notes:
        start = frame_index(n.onset, frame_rate)
        stop = max(start + 1, frame_index(n.offset, frame_rate))
        roll[max(0, start):max(0, min(stop, n_frames)), key_index(n.pitch)] = True
    return roll


def frame_labels(notes: list[Note], pedals: list[PedalSpan], n_frames: int, frame_rate: float) -> FrameLabels:
    """Onset/offset/frame/velocity/pedal targets; frames are pedal-extended as in evaluation."""
    return sounding_labels(extend_with_pedal(notes, pedals), pedals, n_frames, frame_rate)


def sounding_labels(sounding: list[Note], pedals: list[PedalSpan], n_frames: int, frame_rate: float) -> FrameLabels:
    """`frame_labels` of notes already pedal-extended (`extend_with_pedal`, sorted): a caller can extend a long
    performance once and label many crops of it."""
    onset = np.zeros((n_frames, N_KEYS), dtype=np.float32)
    offset = np.zeros_like(onset)
    velocity = np.zeros_like(onset)
    frame = piano_roll(sounding, n_frames, frame_rate).astype(np.float32)
    for n in sounding:
        key = key_index(n.pitch)
        on = frame_index(n.onset, frame_rate)
        off = frame_index(n.offset, frame_rate)
        if 0 <= on < n_frames:
            onset[on, key] = 1.0
            velocity[on, key] = n.velocity / 127.0
        if 0 <= off < n_frames:
            offset[off, key] = 1.0
    pedal = np.zeros(n_frames, dtype=np.float32)
    for p in pedals:
        pedal[max(0, frame_index(p.onset, frame_rate)):max(0, min(n_frames, frame_index(p.offset, frame_rate)))] = 1.0
    return FrameLabels(onset, offset, frame, velocity, pedal)
