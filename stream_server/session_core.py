"""A live session's synchronous core: it stores the session's audio, resamples it and runs the model, and
numbers the events decided (run in batched rounds by batching.InferenceBatcher)."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from notestream.model.config import ACCURATE
from notestream.model.transcriber import Transcriber
from notestream.notes import NoteEvent

from .audio_input import StreamResampler
from .storage import RawAudioFile

ARRIVALS_KEPT = 4096


@dataclass
class DecidedEvent:
    """An event with its sequence number and the arrival time of the audio that decided it (None: replayed)."""

    seq: int
    event: NoteEvent
    anchor_arrival: float | None


class SessionCore:
    """Stores a session's audio, resamples it and runs the model; returns numbered events."""

    def __init__(self, transcriber: Transcriber, sample_rate: int, channels: int, raw_path: Path,
                 next_seq: int = 1, input_frames: int = 0, latency: str = ACCURATE):
        self.sample_rate, self.channels, self.latency = sample_rate, channels, latency
        self.stream = transcriber.stream(latency, keep_result=False)  # events are stored; no notes list growing for hours
        self.resampler = StreamResampler(sample_rate, channels, transcriber.sample_rate)
        self.lookahead = transcriber.latency_seconds(latency)
        self.audio_file = RawAudioFile(raw_path, channels)
        self.next_seq = next_seq
        self.input_frames = input_frames
        self._arrival_ends: list[int] = []  # input frame count after each chunk
        self._arrival_times: list[float] = []

    def replay(self, interleaved: np.ndarray) -> int:
        """Rebuild the model state from stored audio (after a restart); returns how many events it re-derived."""
        mono = self.resampler.push(interleaved)
        return len(self.stream.push(mono)) if mono.size else 0

    def take(self, chunks: list[tuple[np.ndarray, float]], final: bool) -> np.ndarray:
        """Store `chunks` and note their arrival; return the new audio resampled for the model."""
        parts = []
        for interleaved, arrival in chunks:
            self.audio_file.append(interleaved)
            self.input_frames += interleaved.size // self.channels
            self._arrival_ends.append(self.input_frames)
            self._arrival_times.append(arrival)
            parts.append(self.resampler.push(interleaved))
        if final:
            parts.append(self.resampler.flush())
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def number(self, events: list[NoteEvent], final: bool) -> list[DecidedEvent]:
        """Number the events the model decided (at the session's end: its stream finished, its closing events
        included)."""
        if final:
            self.audio_file.close()
        decided = [DecidedEvent(self.next_seq + i, e, self._anchor_arrival(e)) for i, e in enumerate(events)]
        self.next_seq += len(decided)
        del self._arrival_ends[:-ARRIVALS_KEPT], self._arrival_times[:-ARRIVALS_KEPT]
        return decided

    @property
    def duration(self) -> float:
        return self.input_frames / self.sample_rate

    def _anchor_arrival(self, event: NoteEvent) -> float | None:
        """Arrival time of the chunk holding the sample at event time + lookahead (or the last one pushed)."""
        if not self._arrival_ends:
            return None
        anchor = min(math.ceil((event.time + self.lookahead) * self.sample_rate), self.input_frames)
        index = bisect.bisect_left(self._arrival_ends, anchor)
        return self._arrival_times[min(index, len(self._arrival_times) - 1)]
