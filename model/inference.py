"""Incremental inference: audio chunks in, note events out. Offline transcription is this, fed a file."""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter

import numpy as np

from notestream.notes import Note, NoteEvent, PedalSpan, Performance

from .checkpoint import LoadedModel
from .config import WindowConfig
from .decoding import NoteDecoder
from .views import PitchViews, advance_views


@dataclass
class Transcription:
    """Notes and pedal of one recording, with what produced them."""

    notes: list[Note]
    pedals: list[PedalSpan]
    duration: float
    metadata: dict = field(default_factory=dict)

    @property
    def performance(self) -> Performance:
        return Performance(self.notes, self.pedals)


class TranscriptionStream:
    """One live transcription: push mono float32 audio at the model's rate, get note events back."""

    def __init__(self, loaded: LoadedModel, window: WindowConfig | None = None, keep_result: bool = True):
        """`keep_result=False`: events only, no `result()` (a live session's memory then does not grow with its
        length)."""
        self.loaded = loaded
        self.window = window or loaded.window
        self.sample_rate = loaded.features.sample_rate
        self._views = PitchViews(loaded, self.window)
        self._decoder = NoteDecoder(loaded.decoder, loaded.features.frame_rate, keep_result)
        self._samples = 0
        self.finished = False

    @property
    def audio_seconds(self) -> float:
        return self._samples / self.sample_rate

    def push(self, audio: np.ndarray) -> list[NoteEvent]:
        """Feed samples (any length); return events decided so far, in time order."""
        return advance_streams([self], [audio])[0]

    def finish(self) -> list[NoteEvent]:
        """End of audio: flush every stage and close open notes."""
        return finish_streams([self])[0]

    def result(self, metadata: dict | None = None) -> Transcription:
        """Every note and pedal span decided so far, over the audio pushed so far."""
        if not self._decoder.keep_notes:
            raise RuntimeError("this stream was opened with keep_result=False: it gives events, not a result")
        notes = sorted(self._decoder.notes, key=_note_order)  # the order of Note's own comparison, faster
        return Transcription(notes, sorted(self._decoder.pedals), self.audio_seconds, metadata or {})


def finish_streams(streams: list[TranscriptionStream]) -> list[list[NoteEvent]]:
    """`finish` several streams of one model at once, in one batched pass over their last frames (a server ending
    many sessions together would otherwise run one pass each, and every other session would wait for them all)."""
    for stream in streams:
        stream.finished = True
    acts = advance_views([s._views for s in streams], [s._views.flush_audio() for s in streams], [True] * len(streams))
    return [stream._decoder.push(a) + stream._decoder.flush() for stream, a in zip(streams, acts, strict=True)]


_note_order = attrgetter("onset", "offset", "pitch", "velocity")


def advance_streams(streams: list[TranscriptionStream], audios: list[np.ndarray]) -> list[list[NoteEvent]]:
    """Feed several streams of one model at once: one batched network pass, each stream's own events back.

    Each stream gets what its own `push` would give; a server batches its live sessions through this.
    """
    if any(stream.finished for stream in streams):
        raise RuntimeError("this stream has finished; start a new one")
    mels = []
    for stream, audio in zip(streams, audios, strict=True):
        stream._samples += int(np.asarray(audio).size)
        mels.append(stream._views.mel_frames(audio))
    moving = [i for i, views in enumerate(mels) if views[0].shape[0]]
    acts = advance_views([streams[i]._views for i in moving], [mels[i] for i in moving], [False] * len(moving)) if moving else []
    events: list[list[NoteEvent]] = [[] for _ in streams]
    for i, act in zip(moving, acts, strict=True):
        events[i] = streams[i]._decoder.push(act)
    return events
