"""`StreamClient`: an async client for a notestream server's live transcription WebSocket.

It sends audio, yields note events as they are decided, and survives dropped connections: audio the
server has not acknowledged stays in a backlog and is resent after the client resumes its session with
the session token, and events seen before a drop are not delivered twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from urllib.parse import urlencode, urlsplit, urlunsplit

import numpy as np
import websockets
from websockets.asyncio.client import ClientConnection

from .audio_format import AudioFormat
from .backlog import AudioBacklog, BacklogOverflow, SendTimeline
from .connection import Ready, open_session
from .errors import ConnectionLost, ServerBusy, StreamClientError, StreamRefused
from .events import LiveEvent, StreamEvent, StreamFinal, StreamStatus, parse_server_message

log = logging.getLogger(__name__)

STREAM_PATH = "/v1/stream"
# On resume, the server may not yet have noticed that the old connection died.
RETRYABLE_CODES = frozenset({"session_in_use"})
MAX_AUDIO_MESSAGE_BYTES = 256 * 1024  # well under the server's default 1 MiB message limit


def stream_url(url: str, api_key: str | None = None) -> str:
    """'localhost:8000', 'http://host' or 'ws://host/v1/stream' -> the WebSocket URL of the stream endpoint."""
    if "://" not in url:
        url = "ws://" + url
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss"):
        raise ValueError(f"{url}: use a ws://, wss://, http:// or https:// server address")
    path = parts.path.rstrip("/") or STREAM_PATH
    query = parts.query
    if api_key:
        query = (query + "&" if query else "") + urlencode({"api_key": api_key})
    return urlunsplit((scheme, parts.netloc, path, query, ""))


class StreamClient:
    """A live transcription session with a notestream server.

    Send mono or stereo PCM with `send_audio` (float arrays or raw bytes in the declared format), read
    typed events (`LiveEvent`, `StreamStatus`, `StreamFinal`) from `events()`, and call `stop()` when
    the audio ends; `events()` finishes after the server's `StreamFinal`. Example::

        import asyncio
        from notestream.client import AudioFormat, LiveEvent, StreamClient
        from notestream.audio import iter_audio_chunks

        async def main():
            async with StreamClient("ws://localhost:8000", AudioFormat(16000)) as client:
                async def feed():
                    for chunk in iter_audio_chunks("piano.flac", 16000, chunk_seconds=0.1):
                        await client.send_audio(chunk)
                    await client.stop()
                feeder = asyncio.create_task(feed())
                async for event in client.events():
                    if isinstance(event, LiveEvent) and event.kind == "note_on":
                        print(event.name, event.velocity, f"latency {event.latency:.3f} s")
                await feeder

        asyncio.run(main())

    Dropped connections are retried for up to `reconnect_seconds`; meanwhile `send_audio` keeps
    buffering (up to `max_backlog_seconds`). Failures raise `StreamClientError` subclasses whose message
    is one sentence for the user. `latency` asks the server for one of its operating points ("low": note_on
    sooner, a little less accurate; "accurate"); None takes the server's default.
    """

    def __init__(
        self,
        url: str,
        audio_format: AudioFormat | None = None,
        *,
        api_key: str | None = None,
        reconnect_seconds: float = 30.0,
        timeout: float = 10.0,
        max_backlog_seconds: float = 600.0,
        max_events: int = 100_000,
        latency: str | None = None,
    ):
        self.url = stream_url(url, api_key)
        self.latency = latency  # a named operating point the server offers (e.g. "low"); None: its default
        self.format = audio_format or AudioFormat(16000)
        self.reconnect_seconds = reconnect_seconds
        self.timeout = timeout
        self.ready: Ready | None = None
        self.final: StreamFinal | None = None
        self.reconnects = 0
        self._backlog = AudioBacklog(self.format, max_backlog_seconds)
        self._timeline = SendTimeline()
        self._events: asyncio.Queue[StreamEvent | StreamClientError] = asyncio.Queue(max_events)
        self._last_seq = 0
        self._seen: set[tuple[str, float, int | None]] = set()  # for servers that send no `seq`
        self._ws: ClientConnection | None = None
        self._send_lock = asyncio.Lock()
        self._stopping = False
        self._failure: StreamClientError | None = None
        self._final_received = asyncio.Event()
        self._receiver: asyncio.Task | None = None

    @property
    def session(self) -> str | None:
        return self.ready.session if self.ready else None

    @property
    def connected(self) -> bool:
        """Whether a connection is open now (False while reconnecting: audio is being buffered)."""
        return self._ws is not None

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio taken from the caller so far."""
        return self._backlog.total_seconds

    async def __aenter__(self) -> StreamClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.close()

    async def connect(self) -> Ready:
        """Open the session; raises ServerUnreachable, ServerBusy or StreamRefused with a clear message."""
        self._ws, self.ready = await open_session(self.url, self.format, None, self.timeout, latency=self.latency)
        self._receiver = asyncio.create_task(self._receive_loop(), name="notestream-receive")
        return self.ready

    async def send_audio(self, audio: bytes | bytearray | memoryview | np.ndarray) -> None:
        """Queue audio for the server: float samples in [-1, 1] (frames or frames x channels) or raw bytes.

        Returns once the audio is handed to the connection; while reconnecting it only buffers.
        """
        self._raise_failure()
        if self._stopping:
            raise StreamClientError("send_audio after stop(): this session's audio has ended")
        if self._final_received.is_set():
            raise StreamClientError(f"the server ended session {self.session} before the audio did")
        data = self.format.encode(audio) if isinstance(audio, np.ndarray) else bytes(audio)
        async with self._send_lock:
            try:
                ready = self._backlog.append(data)
            except BacklogOverflow as exc:
                self._fail(exc)
                raise
            if not ready:
                return
            self._timeline.record(self._backlog.total_seconds, time.monotonic())
            await self._send_audio_bytes(ready)

    async def stop(self, wait: bool = True) -> StreamFinal | None:
        """End the audio; with `wait`, return the server's summary once every event has arrived.

        Keep consuming `events()` meanwhile (in another task) if the session may produce many events.
        """
        if self.final is None:
            self._raise_failure()
            async with self._send_lock:
                self._stopping = True
                await self._send(json.dumps({"type": "stop"}))
        if not wait:
            return None
        await self._final_received.wait()
        if self.final is None:
            self._raise_failure()
        return self.final

    async def events(self) -> AsyncIterator[StreamEvent]:
        """Events in arrival order; ends after `StreamFinal`, raises StreamClientError on failure."""
        while True:
            item = await self._events.get()
            if isinstance(item, StreamClientError):
                raise item
            yield item
            if isinstance(item, StreamFinal):
                return

    async def close(self) -> None:
        """Close the connection (without waiting for a final summary) and stop background work."""
        if self._receiver:
            self._receiver.cancel()
            await asyncio.gather(self._receiver, return_exceptions=True)
        if self._ws:
            await self._ws.close()
            self._ws = None

    # --- internals -------------------------------------------------------------------------------

    async def _send(self, message: bytes | str) -> None:
        """Send on the live connection; a failure here is left to the receive loop, which reconnects."""
        ws = self._ws
        if ws is None:
            return
        try:
            await asyncio.wait_for(ws.send(message), timeout=max(self.timeout, 30.0))
        except (websockets.ConnectionClosed, TimeoutError, OSError) as exc:
            log.info("send failed (%s); the audio stays buffered for the reconnect", exc)
            self._ws = None
            await ws.close()

    async def _send_audio_bytes(self, data: bytes) -> None:
        """Send audio in frames the server accepts (it limits message size)."""
        step = MAX_AUDIO_MESSAGE_BYTES - MAX_AUDIO_MESSAGE_BYTES % self.format.frame_bytes
        for start in range(0, len(data), step):
            await self._send(data[start:start + step])

    async def _receive_loop(self) -> None:
        try:
            while True:
                ws = self._ws
                if ws is not None:
                    await self._read_messages(ws)
                if self._final_received.is_set():
                    return
                await self._reconnect()
        except StreamClientError as exc:
            self._fail(exc)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or an unexpected library error: surface it, do not hang
            log.exception("receive loop failed")
            self._fail(StreamClientError(f"the stream client failed: {exc}"))

    async def _read_messages(self, ws: ClientConnection) -> None:
        """Deliver this connection's messages until it closes or the session ends."""
        try:
            async for raw in ws:
                if isinstance(raw, str):
                    await self._handle(json.loads(raw))
        except StreamRefused as exc:
            if not self._final_received.is_set():
                raise
            self._failure = self._failure or exc  # e.g. server_shutdown after `final`: the session is complete
        except websockets.ConnectionClosed as exc:
            log.info("connection closed: %s", exc)
        except json.JSONDecodeError as exc:
            raise StreamClientError(f"the server sent a message that is not JSON ({exc})") from exc
        finally:
            if self._ws is ws:
                self._ws = None

    async def _handle(self, message: dict) -> None:
        kind = message.get("type")
        if kind == "error":
            raise StreamRefused(str(message.get("code", "error")), str(message.get("message", "")))
        event = parse_server_message(message)
        if isinstance(event, LiveEvent):
            if self._already_delivered(event):
                return  # re-sent after a resume
            sent = self._timeline.sent_at(event.time)
            event = LiveEvent(event.kind, event.time, event.pitch, event.velocity,
                              None if sent is None else time.monotonic() - sent, event.seq)
            await self._events.put(event)
        elif isinstance(event, StreamStatus):
            frames = event.processed_frames
            self._backlog.acknowledge(frames if frames is not None else int(event.processed_seconds * self.format.sample_rate))
            if not self._events.full():
                self._events.put_nowait(event)  # status is advisory: never block on it
        elif isinstance(event, StreamFinal):
            self.final = event
            await self._events.put(event)
            self._final_received.set()

    def _already_delivered(self, event: LiveEvent) -> bool:
        if event.seq is not None:
            if event.seq <= self._last_seq:
                return True
            self._last_seq = event.seq
            return False
        key = (event.kind, round(event.time, 4), event.pitch)
        if key in self._seen:
            return True
        self._seen.add(key)
        return False

    async def _reconnect(self) -> None:
        """Resume the session with its token and resend unacknowledged audio, retrying with backoff."""
        assert self.ready is not None
        deadline = time.monotonic() + self.reconnect_seconds
        delay = 0.1
        while True:
            try:
                ws, ready = await open_session(self.url, self.format, self.ready, self.timeout, self._last_seq)
                break
            except ServerBusy as exc:
                delay = max(delay, exc.retry_after)
                last = str(exc)
            except StreamRefused as exc:
                if exc.code not in RETRYABLE_CODES:
                    raise
                last = str(exc)
            except StreamClientError as exc:
                last = str(exc)
            if time.monotonic() + delay > deadline:
                raise ConnectionLost(f"lost the connection to {self.url} and could not resume the session "
                                     f"within {self.reconnect_seconds:.0f} s ({last})")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        async with self._send_lock:
            pending = self._backlog.since(ready.audio_frames)
            self._backlog.acknowledge(ready.audio_frames)
            self.ready, self._ws = ready, ws
            self.reconnects += 1
            log.info("resumed session %s at %.2f s; resending %.2f s of audio", ready.session,
                     ready.audio_seconds, self.format.seconds(len(pending)))
            await self._send_audio_bytes(pending)
            if self._stopping:
                await self._send(json.dumps({"type": "stop"}))

    def _fail(self, error: StreamClientError) -> None:
        if self._failure is None:
            self._failure = error
            try:
                self._events.put_nowait(error)
            except asyncio.QueueFull:
                self._events.get_nowait()
                self._events.put_nowait(error)
        self._final_received.set()

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
