"""One live session: audio in order through resampler and TranscriptionStream, events stored then sent.

`SessionCore` is the synchronous part (run in batched rounds by batching.InferenceBatcher); `LiveSession` is its asyncio
shell: a bounded audio queue, a pump task, and the connection currently attached (if any).
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from model.notes import NoteEvent
from model.transcriber import Transcriber

from .audio_input import StreamResampler
from .protocol import ProtocolError, event_message, session_urls
from .storage import RawAudioFile, SessionRecord

if TYPE_CHECKING:
    from .state import ServerState

log = logging.getLogger(__name__)
QUEUE_CHUNKS = 32  # bounded: a client faster than the model is paused by TCP back-pressure
ARRIVALS_KEPT = 4096
_STOP = None


@dataclass
class DecidedEvent:
    """An event with its sequence number and the arrival time of the audio that decided it (None: replayed)."""

    seq: int
    event: NoteEvent
    anchor_arrival: float | None


class SessionCore:
    """Stores a session's audio, resamples it and runs the model; returns numbered events."""

    def __init__(self, transcriber: Transcriber, sample_rate: int, channels: int, raw_path: Path,
                 next_seq: int = 1, input_frames: int = 0):
        self.sample_rate, self.channels = sample_rate, channels
        self.stream = transcriber.stream()
        self.resampler = StreamResampler(sample_rate, channels, transcriber.sample_rate)
        self.lookahead = transcriber.lookahead_seconds
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
        """Number the events the model decided (flushing its tail first when the session ends)."""
        if final:
            events = events + self.stream.finish()
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


Sink = Callable[[dict], Awaitable[None]]


class LiveSession:
    """A session in memory: survives its connection dropping, until resumed, stopped or expired."""

    def __init__(self, state: ServerState, record: SessionRecord, core: SessionCore):
        self.state, self.record, self.core = state, record, core
        self.id = record.id
        self.received_frames = core.input_frames
        self.processed_frames = core.input_frames
        self.event_count = core.next_seq - 1
        self.sink: Sink | None = None
        self.final_message: dict | None = None
        self.failure: str | None = None
        self._queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_CHUNKS)
        self._send_lock = asyncio.Lock()
        self._finishing = False
        self._pump = asyncio.create_task(self._run(), name=f"session-{self.id}")

    @property
    def sample_rate(self) -> int:
        return self.core.sample_rate

    @property
    def finishing(self) -> bool:
        return self._finishing

    def status_message(self) -> dict:
        received, processed = self.received_frames / self.sample_rate, self.processed_frames / self.sample_rate
        return {"type": "status", "audio_seconds": round(received, 4), "processed_seconds": round(processed, 4),
                "lag_seconds": round(received - processed, 4), "audio_frames": self.processed_frames,
                "events": self.event_count}

    async def feed(self, interleaved: np.ndarray, arrival: float) -> None:
        """Queue audio for the model (waits while the queue is full; that is the back-pressure)."""
        if self._pump.done() or self._finishing:
            raise ProtocolError("internal", self.failure or "this session is no longer accepting audio", 1011)
        self.received_frames += interleaved.size // self.core.channels
        if not self._queue.full():
            self._queue.put_nowait((interleaved, arrival))
            return
        put = asyncio.ensure_future(self._queue.put((interleaved, arrival)))
        await asyncio.wait({put, self._pump}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():  # the pump died while we waited: never hang the connection
            put.cancel()
            raise ProtocolError("internal", self.failure or "the session stopped processing audio", 1011)

    async def settle(self) -> None:
        """Wait until every received chunk is processed and stored: a resuming client resends from there,
        so audio still queued from the dropped connection must not be counted twice."""
        while self.processed_frames < self.received_frames and not self._pump.done():
            await asyncio.sleep(0.01)

    async def attach(self, sink: Sink, after_seq: int) -> None:
        """Send this connection the stored events after `after_seq`, then every new event."""
        async with self._send_lock:
            for seq, event in await self.state.stored(self.state.store.events, self.id, after_seq):
                await sink(event_message(seq, event))
            self.sink = sink

    def detach(self, sink: Sink) -> None:
        if self.sink == sink:  # bound methods compare equal, never identical
            self.sink = None

    async def finish(self) -> dict:
        """Process all queued audio, flush the model's tail, mark the session final; returns `final`."""
        if not self._finishing:
            self._finishing = True
            await self._queue.put(_STOP)
        await asyncio.shield(self._pump)
        if self.final_message is None:
            raise ProtocolError("internal", f"session {self.id} could not be finalised: {self.failure}", 1011)
        return self.final_message

    async def _run(self) -> None:
        try:
            while True:
                chunks, final = await self._next_batch()
                await self._process(chunks, final)
                if final:
                    await self._finalise()
                    return
        except Exception as exc:  # a bug must not hang the connection: report it and stop
            log.exception("session %s failed", self.id)
            self.failure = f"{type(exc).__name__}: {exc}"
            await self._send({"type": "error", "code": "internal", "message": f"transcription failed ({self.failure})"})

    async def _next_batch(self) -> tuple[list, bool]:
        """Everything queued now (coalesced: fewer, larger model calls when the server falls behind)."""
        items = [await self._queue.get()]
        while not self._queue.empty() and items[-1] is not _STOP:
            items.append(self._queue.get_nowait())
        final = items[-1] is _STOP
        return [i for i in items if i is not _STOP], final

    async def _process(self, chunks: list, final: bool) -> None:
        state = self.state
        started = asyncio.get_running_loop().time()
        decided = await state.batcher.process(self.core, chunks, final)
        state.metrics.inference_seconds.inc(asyncio.get_running_loop().time() - started)
        state.metrics.audio_seconds.inc(sum(c.size for c, _ in chunks) / self.core.channels / self.sample_rate)
        frames = self.core.input_frames
        await state.stored(state.store.commit_progress, self.id, [(d.seq, d.event) for d in decided], frames,
                           frames / self.sample_rate)
        self.processed_frames = frames
        async with self._send_lock:
            self.event_count = self.core.next_seq - 1
            for d in decided:
                await self._send(event_message(d.seq, d.event), hold_lock=True)
                if d.anchor_arrival is not None and d.event.kind == "note_on":
                    state.metrics.event_latency.observe(asyncio.get_running_loop().time() - d.anchor_arrival)

    async def _finalise(self) -> None:
        state = self.state
        await state.stored(state.store.set_status, self.id, "final", 1.0, None, self.core.duration)
        await state.compress_audio(self.record)
        count = await state.stored(_count_notes, state.store, self.id)
        self.final_message = {"type": "final", "session": self.id, "notes": count,
                              "duration": round(self.core.duration, 4), "urls": session_urls(self.id)}
        log.info("session %s final: %d notes, %.1f s of audio", self.id, count, self.core.duration)

    async def _send(self, message: dict, hold_lock: bool = False) -> None:
        sink = self.sink
        if sink is None:
            return
        try:
            if hold_lock:
                await sink(message)
            else:
                async with self._send_lock:
                    await sink(message)
        except Exception as exc:  # the client went away; the event is stored and will be replayed on resume
            log.info("session %s: send failed (%s); detaching", self.id, exc)
            self.detach(sink)


def _count_notes(store, session_id: str) -> int:
    return sum(1 for _, e in store.events(session_id) if e.kind == "note_on")
