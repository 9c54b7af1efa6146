"""Activations -> notes and pedal: one incremental decoder for streaming and offline alike.

Offline decoding is `push` of the whole array followed by `flush`, so both modes agree by
construction. An onset is a local peak of the onset activation above threshold (decided one frame
later); a note then lasts while the frame activation stays above threshold and no offset peak or
new onset of the same key arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import DecoderConfig
from .notes import MIN_PITCH, N_KEYS, Note, NoteEvent, PedalSpan


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


class NoteDecoder:
    """Incremental decoder: feed activation chunks, receive note and pedal events as they are decided."""

    def __init__(self, config: DecoderConfig, frame_rate: float):
        self.config = config
        self.frame_rate = frame_rate
        self._held: Activations | None = None  # the last frame, awaiting its successor for peak picking
        self._prev_onset = np.zeros(N_KEYS, dtype=np.float32)
        self._frame_index = 0  # index of the first frame in _held
        self._active_since = np.full(N_KEYS, -1, dtype=np.int64)
        self._active_velocity = np.zeros(N_KEYS, dtype=np.int64)
        self._pedal_since = -1
        self.notes: list[Note] = []
        self.pedals: list[PedalSpan] = []

    def push(self, acts: Activations) -> list[NoteEvent]:
        """Decode the new frames; the last frame is held back until the next push or flush."""
        if len(acts) == 0:
            return []
        joined = acts if self._held is None else Activations.concat([self._held, acts])
        events = self._decode(joined.slice(0, len(joined) - 1), joined.onset[1:])
        self._held = joined.slice(len(joined) - 1)
        return events

    def flush(self) -> list[NoteEvent]:
        """End of stream: decide the held frame and close every open note and pedal span."""
        events: list[NoteEvent] = []
        if self._held is not None:
            events = self._decode(self._held, np.zeros((1, N_KEYS), dtype=np.float32))
            self._held = None
        end = self._frame_index
        for key in np.flatnonzero(self._active_since >= 0):
            events.append(self._close_note(int(key), end))
        if self._pedal_since >= 0:
            events.append(self._close_pedal(end))
        return events

    def _decode(self, acts: Activations, next_onset: np.ndarray) -> list[NoteEvent]:
        cfg = self.config
        prev_onset = np.concatenate([self._prev_onset[None], acts.onset[:-1]])
        peaks = (acts.onset >= cfg.onset_threshold) & (acts.onset >= prev_onset) & (acts.onset > next_onset)
        ends = (acts.frame < cfg.frame_threshold) | (acts.offset >= cfg.onset_threshold)
        events: list[NoteEvent] = []
        keys = np.flatnonzero(peaks.any(axis=0) | (self._active_since >= 0))
        per_frame: list[tuple[int, int, NoteEvent]] = []
        for key in keys:
            per_frame += self._decode_key(int(key), peaks[:, key], ends[:, key], acts.velocity[:, key])
        per_frame += self._decode_pedal(acts.pedal)
        per_frame.sort(key=lambda item: (item[0], item[1]))
        events = [e for _, _, e in per_frame]
        self._prev_onset = acts.onset[-1].copy()
        self._frame_index += len(acts)
        return events

    def _decode_key(self, key: int, peaks: np.ndarray, ends: np.ndarray, velocity: np.ndarray) -> list[tuple[int, int, NoteEvent]]:
        out: list[tuple[int, int, NoteEvent]] = []
        onsets = set(np.flatnonzero(peaks).tolist())
        candidates = sorted(onsets | set(np.flatnonzero(ends).tolist()))
        for t in candidates:
            frame = self._frame_index + t
            if t in onsets:
                if self._active_since[key] >= 0:
                    out.append((frame, 0, self._close_note(key, frame)))
                vel = int(np.clip(round(float(velocity[t]) * 127), 1, 127))
                self._active_since[key], self._active_velocity[key] = frame, vel
                out.append((frame, 2, NoteEvent("note_on", frame / self.frame_rate, key + MIN_PITCH, vel)))
            elif self._active_since[key] >= 0 and frame > self._active_since[key]:
                out.append((frame, 0, self._close_note(key, frame)))
        return out

    def _decode_pedal(self, pedal: np.ndarray) -> list[tuple[int, int, NoteEvent]]:
        out: list[tuple[int, int, NoteEvent]] = []
        down = pedal >= self.config.pedal_threshold
        for t in range(len(down)):
            frame = self._frame_index + t
            if down[t] and self._pedal_since < 0:
                self._pedal_since = frame
                out.append((frame, 1, NoteEvent("pedal_on", frame / self.frame_rate, None, 127)))
            elif not down[t] and self._pedal_since >= 0:
                out.append((frame, 1, self._close_pedal(frame)))
        return out

    def _close_note(self, key: int, frame: int) -> NoteEvent:
        start = int(self._active_since[key])
        self._active_since[key] = -1
        self.notes.append(Note(start / self.frame_rate, frame / self.frame_rate, key + MIN_PITCH, int(self._active_velocity[key])))
        return NoteEvent("note_off", frame / self.frame_rate, key + MIN_PITCH, 0)

    def _close_pedal(self, frame: int) -> NoteEvent:
        self.pedals.append(PedalSpan(self._pedal_since / self.frame_rate, frame / self.frame_rate))
        self._pedal_since = -1
        return NoteEvent("pedal_off", frame / self.frame_rate, None, 0)


def decode(acts: Activations, config: DecoderConfig, frame_rate: float) -> tuple[list[Note], list[PedalSpan]]:
    """Offline decoding of a whole array: the incremental decoder fed once."""
    decoder = NoteDecoder(config, frame_rate)
    decoder.push(acts)
    decoder.flush()
    return sorted(decoder.notes), sorted(decoder.pedals)
