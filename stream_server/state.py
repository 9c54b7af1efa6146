"""Server-wide state: configuration, the loaded model, the store, executors and the live sessions."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from notestream.model.config import ACCURATE
from notestream.model.transcriber import Transcriber
from notestream.web import APP_DIR

from .batching import InferenceBatcher
from .limits import SessionLimits
from .live_session import LiveSession, SessionServices
from .metrics import Metrics
from .protocol import CLOSE_TRY_LATER, ProtocolError, StartMessage
from .replica import session_id_prefix
from .session_core import SessionCore
from .storage import RawAudioFile, SessionRecord, SessionStore, compress_to_flac

log = logging.getLogger(__name__)


@dataclass
class ServerConfig:
    """Everything `notestream serve` can set; limits are refusals with clear errors (docs/protocol.md)."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    checkpoint: Path | None = None
    device: str = "auto"
    views: tuple[int, ...] | None = None  # another of the checkpoint's calibrated pitch-view sets (None: its own)
    precision: str = "auto"  # the compute type of the CNN and the GRU input projection (model.checkpoint.resolve_precision)
    api_key: str | None = None
    allowed_origins: list[str] | None = None  # None: same host only; ["*"]: any
    max_sessions: int = 8  # connected live sessions
    max_detached_sessions: int = 16  # sessions waiting for a resume; over it, the longest-waiting one is finalised
    max_sessions_per_address: int = 0  # connected + detached per client address (0: no cap; behind a proxy all share one)
    max_message_bytes: int = 1 << 20
    max_session_seconds: float = 4 * 3600.0
    max_upload_bytes: int = 200 << 20
    max_upload_seconds: float = 3600.0  # audio duration of one upload
    max_queued_jobs: int = 8  # upload jobs queued or running; more: 429 busy
    max_jobs_per_address: int = 4  # of those, from one client address (0: no cap)
    idle_timeout: float = 30.0  # an HTTP connection without a complete request (headers included) is closed after it
    resume_window: float = 120.0
    status_interval: float = 1.0
    ping_interval: float = 20.0
    start_timeout: float = 10.0
    send_timeout: float = 10.0
    workers: int = 1
    latency: str = ACCURATE  # the operating point of sessions whose `start` names none
    static_dir: Path = APP_DIR
    replica_id: str | None = None  # behind a load balancer: this replica's name, the prefix of its session ids


class ServerState:
    """What every handler shares. Blocking work leaves the event loop through the executors here."""

    def __init__(self, config: ServerConfig, transcriber: Transcriber):
        self.config, self.transcriber = config, transcriber
        self.store = SessionStore(config.data_dir, session_id_prefix(config.replica_id))
        self.metrics = Metrics()
        self.live: dict[str, LiveSession] = {}
        self.connections: set = set()  # StreamConnection objects, told first on shutdown
        self.job_progress: dict = {}  # job id -> jobs.JobProgress while it runs
        self.tasks: set[asyncio.Task] = set()  # background tasks, referenced so they are not collected
        self._inference = started_threads(config.workers, "inference")
        self.batcher = InferenceBatcher(self._inference)  # live sessions' model work, batched round by round
        self._storage = started_threads(1, "storage")  # SQLite: one thread
        self.jobs_executor = started_threads(1, "jobs")
        self.engraving = started_threads(1, "engraving")  # sheet music, and its PDF (drawn by a child process)
        self._expiry: dict[str, asyncio.TimerHandle] = {}
        self.orphan_timers: list[asyncio.TimerHandle] = []  # janitor.schedule_orphans
        self._opening: set[str] = set()
        self.stopping = False
        self.session_services = SessionServices(self.batcher, self.store, self.stored, self.compress_audio, self.metrics)
        self.limits = SessionLimits(self)

    async def infer(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._inference, fn, *args)

    async def stored(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._storage, fn, *args)

    async def compress_audio(self, record: SessionRecord) -> None:
        """FLAC-encode a finished session's raw audio (off the loop)."""
        store = self.store
        await asyncio.get_running_loop().run_in_executor(
            None, compress_to_flac, store.raw_audio_path(record.id), store.flac_path(record.id),
            record.sample_rate, record.channels,
        )

    async def open_session(self, start: StartMessage, address: str = "") -> tuple[LiveSession, str | None]:
        """A new session (returns its token) or the resumed one (token None); raises ProtocolError."""
        if start.session is None:
            latency = self._latency(start.latency)
            self._check_capacity()
            await self.limits.make_room_for(address)
            record, token = await self.stored(self.store.create, "stream", start.sample_rate, start.channels, None, latency)
            core = SessionCore(self.transcriber, start.sample_rate, start.channels, self.store.raw_audio_path(record.id),
                               latency=latency)
            session = self._register(LiveSession(self.session_services, record, core))
            self.limits.addresses[session.id] = address
            log.info("session %s started: %d Hz, %d ch, %s", record.id, start.sample_rate, start.channels, start.encoding)
            return session, token
        session = await self._resume(start)
        self.limits.addresses[session.id] = address
        return session, None

    async def _resume(self, start: StartMessage) -> LiveSession:
        record = await self.stored(self.store.get, start.session)
        if record is None or record.kind != "stream":
            raise ProtocolError("unknown_session", f"there is no streaming session {start.session!r}; start a new one")
        if not record.token_matches(start.token):
            raise ProtocolError("unauthorized", "the token does not match this session (use the token from its ready message)")
        if record.finished:
            raise ProtocolError("session_finished", f"session {record.id} was stopped; read its results at /v1/sessions/{record.id}")
        if (start.sample_rate, start.channels) != (record.sample_rate, record.channels):
            raise ProtocolError("format_mismatch", f"session {record.id} streams {record.sample_rate} Hz with "
                                f"{record.channels} channel(s); resume with the same sample_rate and channels")
        session = self.live.get(record.id)
        if session is None:
            self._check_capacity()
            session = await self.restore(record)
        if session.sink is not None or session.finishing:
            raise ProtocolError("session_in_use", f"session {record.id} is already streaming on another connection")
        self.cancel_expiry(record.id)
        self.limits.forget(record.id)
        return session

    async def restore(self, record: SessionRecord) -> LiveSession:
        """After a restart: rebuild the model state by re-feeding the stored (acknowledged) audio."""
        if record.id in self._opening:
            raise ProtocolError("session_in_use", f"session {record.id} is being restored by another connection")
        self._opening.add(record.id)
        try:
            stored_events = await self.stored(self.store.events, record.id)
            path = self.store.raw_audio_path(record.id)
            audio = await self.stored(RawAudioFile.read, path, record.channels, record.input_frames)
            core = SessionCore(self.transcriber, record.sample_rate, record.channels, path,
                               next_seq=len(stored_events) + 1, input_frames=record.input_frames,
                               latency=record.latency or ACCURATE)
            rederived = await self.infer(core.replay, audio)
            if rederived != len(stored_events):
                log.warning("session %s: replay re-derived %d events, %d were stored", record.id, rederived, len(stored_events))
            log.info("session %s restored from %.1f s of stored audio", record.id, core.duration)
            return self._register(LiveSession(self.session_services, record, core))
        finally:
            self._opening.discard(record.id)

    def _latency(self, asked: str | None) -> str:
        """The operating point a new session runs at: the one it asks for, else the server's default."""
        offered = self.transcriber.latencies
        if asked is not None and asked not in offered:
            raise ProtocolError("unsupported_latency", f"latency {asked!r} is not offered; ask for one of {', '.join(offered)}")
        return asked or self.config.latency

    @property
    def sessions_in_use(self) -> int:
        """Live sessions counted against `max_sessions`: connected or being opened. One waiting for its client
        to resume has its own budget (limits.py)."""
        return self.limits.connected + len(self._opening)

    def _check_capacity(self) -> None:
        if self.sessions_in_use >= self.config.max_sessions:
            self.metrics.refusals.inc(reason="busy")
            raise ProtocolError("busy", f"the server is at its limit of {self.config.max_sessions} live sessions", CLOSE_TRY_LATER)

    def _register(self, session: LiveSession) -> LiveSession:
        self.live[session.id] = session
        self.metrics.sessions_started.inc()
        return session

    def schedule_expiry(self, session: LiveSession) -> None:
        """A session without a connection is finalised after the resume window (or sooner, when the
        detached budget is full: limits.SessionLimits)."""
        self.cancel_expiry(session.id)
        self.limits.mark_detached(session.id)
        self.limits.evict_detached_over_budget()
        loop = asyncio.get_running_loop()
        self._expiry[session.id] = loop.call_later(
            self.config.resume_window, lambda: asyncio.ensure_future(self.finalise(session, "resume window passed")))

    def cancel_expiry(self, session_id: str) -> None:
        handle = self._expiry.pop(session_id, None)
        if handle:
            handle.cancel()

    async def finalise(self, session: LiveSession, why: str) -> dict | None:
        """Finish a session and forget it from memory; returns its `final` message (None if it failed)."""
        self.cancel_expiry(session.id)
        self.limits.mark_closing(session.id)
        try:
            return await session.finish()
        except ProtocolError as exc:
            log.error("session %s: %s", session.id, exc.message)
            return None
        finally:
            if self.live.get(session.id) is session:
                del self.live[session.id]
                self.limits.addresses.pop(session.id, None)
                self.limits.forget(session.id)
            log.info("session %s closed (%s)", session.id, why)

    async def shutdown(self) -> None:
        """Finalise every live session (connected clients get `final`), then stop the executors."""
        self.stopping = True
        for handle in self.orphan_timers:
            handle.cancel()
        await asyncio.gather(*(c.shutdown() for c in list(self.connections)))
        await asyncio.gather(*(self.finalise(s, "server shutdown") for s in list(self.live.values())))
        self.jobs_executor.shutdown(wait=False, cancel_futures=True)  # a running job stops at its next chunk
        for executor in (self._inference, self.engraving, self._storage):
            executor.shutdown(wait=True)
        self.store.close()


def started_threads(count: int, name: str) -> ThreadPoolExecutor:
    """A pool of `count` threads, all running now (ThreadPoolExecutor starts them one at a time as work happens to
    overlap): the server's thread count is flat from the start, so a thread that appears later is a leak."""
    pool = ThreadPoolExecutor(count, thread_name_prefix=name)
    barrier = threading.Barrier(count, timeout=30)
    for future in [pool.submit(barrier.wait) for _ in range(count)]:
        future.result()
    return pool


STATE_KEY = web.AppKey("state", ServerState)
