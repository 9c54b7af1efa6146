"""Activations -> notes and pedal: one incremental decoder for streaming and offline alike.

Offline decoding is `push` of the whole array followed by `flush`, so both modes agree by
construction. An onset is a local peak of the onset activation above threshold (decided one frame
later), or with `onset_on_rise` the first frame of a run above it (decided at once); a note then lasts until the frame activation stays below threshold for `end_frames` frames, an
offset activation reaches its threshold (when one is set), or a new onset of the same key arrives. With
`offset_snap_frames`, the end then moves back to the offset head's peak just before it: the frame
activation fades later than the key is released. A pedal press likewise moves back along the pedal
activation's rise (`pedal_snap_frames`). Such a note_off or pedal_on is sent when decided, so its time can
precede events sent before it by up to `backdate_frames`.
"""

from __future__ import annotations

from operator import itemgetter

import numpy as np

from notestream.notes import MIN_PITCH, N_KEYS, Note, NoteEvent, PedalSpan

from .activations import Activations
from .config import DecoderConfig

NEVER = np.iinfo(np.int64).max  # "no such frame" in frame-index arrays
OFF_ORDER, PEDAL_ORDER, ON_ORDER = 0, 1, 2  # at one frame: key releases, then the pedal, then strikes
_Row = tuple[int, int, int, NoteEvent]  # (frame, order, key, event): events sort by the first three


_row_order = itemgetter(0, 1, 2)


class NoteDecoder:
    """Incremental decoder: feed activation chunks, receive note and pedal events as they are decided."""

    def __init__(self, config: DecoderConfig, frame_rate: float, keep_notes: bool = True):
        self.config = config
        self.frame_rate = frame_rate
        self.keep_notes = keep_notes  # False: events only; `notes` and `pedals` stay empty (a long live session)
        self._held: Activations | None = None  # the last frames, awaiting their successors
        self._prev_onset = np.zeros(N_KEYS, dtype=np.float32)
        self._prev_frame = np.zeros(N_KEYS, dtype=np.float32)
        self._prev_strong = np.zeros(N_KEYS, dtype=bool)  # onset_on_rise: was the frame before strong enough
        self._frame_index = 0  # index of the first frame in _held
        self._active_since = np.full(N_KEYS, -1, dtype=np.int64)
        self._active_velocity = np.zeros(N_KEYS, dtype=np.int64)
        self._pedal_since = -1
        self._pedal_released = -1  # the frame of the last pedal_off
        self._pedal_tail = np.zeros(0, dtype=np.float32)  # pedal activations of the frames before
        # a run of end_frames low frames is known end_frames - 1 frames after its start: with fewer frames held,
        # the end of a note is decided `config.end_lag` frames behind its onsets (and placed where the run starts)
        self._ends_from = 0  # the first frame whose end-run is not yet known
        self._frame_tail = np.zeros((0, N_KEYS), dtype=np.float32)  # frame activations from _ends_from on
        self._offset_tail = np.zeros((0, N_KEYS), dtype=np.float32)  # offset activations of the frames before
        self._offsets = self._offset_tail  # while deciding a chunk: the tail, then the chunk's offset activations
        self.notes: list[Note] = []
        self.pedals: list[PedalSpan] = []

    def push(self, acts: Activations) -> list[NoteEvent]:
        """Decode the new frames; the last `frames_ahead` frames are held back until the next push or flush."""
        if len(acts) == 0:
            return []
        joined = acts if self._held is None else Activations.concat([self._held, acts])
        decided = max(0, len(joined) - self.config.frames_ahead)
        events = self._decode(joined.slice(0, decided), joined.slice(decided), final=False)
        self._held = joined.slice(decided)
        return events

    def flush(self) -> list[NoteEvent]:
        """End of stream: decide the held frames and close every open note and pedal span."""
        events: list[NoteEvent] = []
        if self._held is not None:
            events = self._decode(self._held, self._held.slice(0, 0), final=True)
            self._held = None
        end = self._frame_index
        for key in np.flatnonzero(self._active_since >= 0):
            events.append(self._close_note(int(key), end))
        if self._pedal_since >= 0:
            events.append(self._close_pedal(end))
        return events

    def _decode(self, acts: Activations, ahead: Activations, final: bool) -> list[NoteEvent]:
        """Decide the frames of `acts`, looking at the `ahead` frames after them (`final`: none come after)."""
        if len(acts) == 0:  # a first push shorter than the look-ahead: nothing is decided yet
            return []
        cfg = self.config
        peaks = self._onsets(acts, ahead)
        self._offsets = np.concatenate([self._offset_tail, acts.offset])
        frames = np.concatenate([self._frame_tail, acts.frame])
        ends = self._end_window(frames, ahead, final)
        rows = self._decode_keys(peaks, ends, acts.velocity) + self._decode_pedal(acts.pedal)
        rows.sort(key=_row_order)  # by frame, then offs < pedal < ons, then key
        self._frame_tail = frames[len(ends):]
        self._ends_from += len(ends)
        self._offset_tail = self._offsets[max(0, len(self._offsets) - cfg.offset_snap_frames - cfg.end_lag):]
        self._prev_onset = acts.onset[-1].copy()
        self._prev_frame = acts.frame[-1].copy()
        self._frame_index += len(acts)
        return [row[3] for row in rows]

    def _onsets(self, acts: Activations, ahead: Activations) -> np.ndarray:
        """Onset frames (frames, keys): peaks of the onset activation that are strong enough, or with
        `onset_on_rise` the first strong enough frame of each run (no frame after it is needed)."""
        strong = self._onset_strong_enough(acts, ahead)
        if self.config.onset_on_rise:
            was_strong = np.concatenate([self._prev_strong[None], strong[:-1]])
            self._prev_strong = strong[-1].copy()
            return strong & ~was_strong
        prev_onset = np.concatenate([self._prev_onset[None], acts.onset[:-1]])
        following = ahead.onset[:1] if len(ahead) else np.zeros((1, N_KEYS), dtype=np.float32)
        next_onset = np.concatenate([acts.onset[1:], following])
        return (acts.onset >= prev_onset) & (acts.onset > next_onset) & strong

    def _onset_strong_enough(self, acts: Activations, ahead: Activations) -> np.ndarray:
        """Onset activations at the onset threshold, or at the weak one where the frame activation rises
        across them (from the frame before to the one after; at the stream's end, or with `onset_on_rise`,
        to the frame itself)."""
        cfg = self.config
        strong = acts.onset >= cfg.onset_threshold
        if cfg.weak_onset_threshold is None:
            return strong
        before = np.concatenate([self._prev_frame[None], acts.frame[:-1]])
        if cfg.onset_on_rise:
            after = acts.frame
        else:
            after = np.concatenate([acts.frame[1:], ahead.frame[:1] if len(ahead) else acts.frame[-1:]])
        return strong | ((acts.onset >= cfg.weak_onset_threshold) & (after - before >= cfg.onset_rise))

    def _end_window(self, frames: np.ndarray, ahead: Activations, final: bool) -> np.ndarray:
        """End frames (keys as columns) from `_ends_from` on, as far as their runs are known: to `end_lag`
        frames before the decided ones, or to the last frame at the end of the stream."""
        cfg = self.config
        width = len(frames) - (0 if final else cfg.end_lag)
        low = np.concatenate([frames, ahead.frame]) < cfg.frame_threshold
        ends = low_runs(low, width, cfg.end_frames)
        if cfg.offset_threshold is not None:
            first = self._ends_from - (self._frame_index - len(self._offset_tail))
            ends |= self._offsets[first:first + width] >= cfg.offset_threshold
        return ends

    def _decode_keys(self, peaks: np.ndarray, ends: np.ndarray, velocity: np.ndarray) -> list[_Row]:
        """Note events of every key from array operations, so Python work is per note, not per frame.

        A note struck at frame t ends at the key's first end frame after t or at its next onset,
        whichever comes first; a note already sounding ends at the key's first end frame or onset.
        `ends` starts at frame `_ends_from`, up to `end_lag` frames before this chunk.
        """
        base = self._frame_index
        width, lag = len(ends), base - self._ends_from
        end_at = np.where(ends, np.arange(width)[:, None] - lag, NEVER)  # frames relative to base
        next_end = np.vstack([np.minimum.accumulate(end_at[::-1], axis=0)[::-1], np.full((1, N_KEYS), NEVER)])
        keys, times = np.nonzero(peaks.T)  # onsets, ordered by key then time
        next_onset = np.where(np.append(keys[1:] == keys[:-1], False), np.append(times[1:], 0), NEVER)
        closes = np.minimum(next_end[np.minimum(times + 1 + lag, width), keys], next_onset)
        velocities = np.clip(np.rint(velocity[times, keys].astype(np.float64) * 127), 1, 127).astype(np.int64)

        sounding = np.flatnonzero(self._active_since >= 0)
        first_onset = np.full(sounding.size, NEVER)
        if keys.size:
            first = np.minimum(np.searchsorted(keys, sounding), keys.size - 1)
            struck_again = keys[first] == sounding
            first_onset[struck_again] = times[first[struck_again]]
        after_start = np.clip(self._active_since[sounding] + 1 - self._ends_from, 0, width)
        sounding_closes = np.minimum(next_end[after_start, sounding], first_onset)

        all_keys = np.concatenate([sounding, keys])
        all_starts = np.concatenate([self._active_since[sounding], base + times])
        all_velocities = np.concatenate([self._active_velocity[sounding], velocities])
        all_closes = np.concatenate([sounding_closes, closes])
        rows = self._end_notes(all_keys, all_starts, all_velocities, all_closes)
        for key, t, vel in zip(keys.tolist(), times.tolist(), velocities.tolist(), strict=True):
            frame = base + t
            rows.append((frame, ON_ORDER, key, NoteEvent("note_on", frame / self.frame_rate, key + MIN_PITCH, vel)))
        return rows

    def _end_notes(self, keys: np.ndarray, starts: np.ndarray, velocities: np.ndarray, closes: np.ndarray) -> list[_Row]:
        """Close the notes whose end frame (relative to this chunk) was found; keep the others sounding."""
        self._active_since[keys] = -1
        still = closes == NEVER
        self._active_since[keys[still]] = starts[still]
        self._active_velocity[keys[still]] = velocities[still]
        ended = np.flatnonzero(~still)
        ended = ended[np.lexsort((closes[ended], keys[ended]))]  # per key, in time order
        rows: list[_Row] = []
        for key, start, vel, close in zip(*(a[ended].tolist() for a in (keys, starts, velocities, closes)), strict=True):
            frame = self._snapped_end(key, start, self._frame_index + close)
            pitch = key + MIN_PITCH
            self._keep_note(start, frame, pitch, vel)
            rows.append((frame, OFF_ORDER, key, NoteEvent("note_off", frame / self.frame_rate, pitch, 0)))
        return rows

    def _snapped_end(self, key: int, start: int, end: int) -> int:
        """`end`, or the frame of the offset head's peak among the `offset_snap_frames` frames before it (after
        the onset) when the peak reaches the floor; the first of equal peaks."""
        cfg = self.config
        if cfg.offset_snap_frames == 0:
            return end
        base = self._frame_index - len(self._offset_tail)  # absolute frame of self._offsets[0]
        lo = max(start + 1, end - cfg.offset_snap_frames, base)
        window = self._offsets[lo - base:end - base + 1, key]
        if window.size == 0:
            return end
        peak = int(np.argmax(window))
        return lo + peak if window[peak] >= cfg.offset_snap_floor else end

    def _decode_pedal(self, pedal: np.ndarray) -> list[_Row]:
        down = pedal_down(pedal, self.config, self._pedal_since >= 0)
        was_down = np.concatenate([[self._pedal_since >= 0], down[:-1]])
        history = np.concatenate([self._pedal_tail, pedal])
        rows: list[_Row] = []
        for t in np.flatnonzero(down != was_down).tolist():
            frame = self._frame_index + t
            if down[t]:
                frame = self._pedal_press(history, frame)
                self._pedal_since = frame
                rows.append((frame, PEDAL_ORDER, -1, NoteEvent("pedal_on", frame / self.frame_rate, None, 127)))
            else:
                self._pedal_released = frame
                rows.append((frame, PEDAL_ORDER, -1, self._close_pedal(frame)))
        self._pedal_tail = history[max(0, len(history) - self.config.pedal_snap_frames):]
        return rows

    def _pedal_press(self, history: np.ndarray, frame: int) -> int:
        """Where a press crossing the threshold at `frame` began: back along the activation's rise while it is at
        least the floor, up to `pedal_snap_frames` frames, never to or before the last release."""
        cfg = self.config
        base = self._frame_index - len(self._pedal_tail)  # absolute frame of history[0]
        lowest = max(frame - cfg.pedal_snap_frames, self._pedal_released + 1, base)
        while frame > lowest and cfg.pedal_snap_floor <= history[frame - 1 - base] <= history[frame - base]:
            frame -= 1
        return frame

    def _close_note(self, key: int, frame: int) -> NoteEvent:
        start = int(self._active_since[key])
        self._active_since[key] = -1
        self._keep_note(start, frame, key + MIN_PITCH, int(self._active_velocity[key]))
        return NoteEvent("note_off", frame / self.frame_rate, key + MIN_PITCH, 0)

    def _keep_note(self, start: int, end: int, pitch: int, velocity: int) -> None:
        if self.keep_notes:
            self.notes.append(Note(start / self.frame_rate, end / self.frame_rate, pitch, velocity))

    def _close_pedal(self, frame: int) -> NoteEvent:
        if self.keep_notes:
            self.pedals.append(PedalSpan(self._pedal_since / self.frame_rate, frame / self.frame_rate))
        self._pedal_since = -1
        return NoteEvent("pedal_off", frame / self.frame_rate, None, 0)


def low_runs(low: np.ndarray, n: int, length: int) -> np.ndarray:
    """Of the first `n` frames of `low` (frames, keys), those that start `length` low frames in a row; frames
    past the end of `low` count as low (the audio has ended)."""
    runs = low[:n].copy()
    for step in range(1, length):
        later = low[step:step + n]
        if len(later) < n:
            later = np.vstack([later, np.ones((n - len(later), low.shape[1]), dtype=bool)])
        runs &= later
    return runs


def pedal_down(pedal: np.ndarray, config: DecoderConfig, down_before: bool) -> np.ndarray:
    """Pedal state per frame with hysteresis: pressed at >= pedal_threshold, released below the release
    threshold, otherwise as the frame before (so a wavering activation does not flutter the pedal)."""
    release = config.pedal_threshold if config.pedal_release_threshold is None else config.pedal_release_threshold
    decisive = np.where(pedal >= config.pedal_threshold, 1, np.where(pedal < release, 0, -1))
    states = np.concatenate([[int(down_before)], decisive])
    last = np.maximum.accumulate(np.where(states >= 0, np.arange(states.size), 0))
    return states[last][1:].astype(bool)


def decode(acts: Activations, config: DecoderConfig, frame_rate: float) -> tuple[list[Note], list[PedalSpan]]:
    """Offline decoding of a whole array: the incremental decoder fed once."""
    decoder = NoteDecoder(config, frame_rate)
    decoder.push(acts)
    decoder.flush()
    return sorted(decoder.notes), sorted(decoder.pedals)
