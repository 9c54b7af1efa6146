"""The `/v1/stream` WebSocket: one `StreamConnection` per client connection (docs/protocol.md)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Awaitable

from aiohttp import WSMsgType, web

from .audio_input import PcmDecoder
from .auth import json_error, origin_allowed, request_token
from .live_session import LiveSession
from .protocol import (
    CLOSE_INTERNAL,
    CLOSE_NORMAL,
    CLOSE_RESTART,
    CLOSE_TOO_BIG,
    CLOSE_TRY_LATER,
    ProtocolError,
    StartMessage,
    StopMessage,
    parse_client_message,
)
from .replica import refuse_new_stream_when_full
from .state import STATE_KEY, ServerState

log = logging.getLogger(__name__)
BUSY_RETRY_SECONDS = 5
CLIENT_GONE = (ConnectionError, asyncio.IncompleteReadError)  # aiohttp's ClientConnectionResetError is one too


async def stream_handler(request: web.Request) -> web.WebSocketResponse:
    """Upgrade to a WebSocket (after the Origin check) and run the protocol until the connection ends."""
    state: ServerState = request.app[STATE_KEY]
    refuse_new_stream_when_full(request, state.sessions_in_use, state.config.max_sessions)
    if not origin_allowed(request.headers.get("Origin"), request.host, state.config.allowed_origins):
        state.metrics.refusals.inc(reason="origin")
        raise json_error(403, "forbidden_origin", f"origin {request.headers.get('Origin')} may not open streams here "
                         "(the server's --allowed-origins does not list it)")
    limit = state.config.max_message_bytes
    # No permessage-deflate: audio barely compresses, and each connection's zlib state costs CPU and ~270 kB.
    ws = web.WebSocketResponse(heartbeat=state.config.ping_interval, max_msg_size=2 * limit + 1024, compress=False)
    await ws.prepare(request)
    connection = StreamConnection(ws, state, request_token(request), request.remote or "")
    state.connections.add(connection)
    try:
        await connection.guarded(connection.run())
    finally:
        state.connections.discard(connection)
        await connection.release()
    return ws


class StreamConnection:
    """One client connection: `start`, audio frames, `stop`; the session may outlive it."""

    def __init__(self, ws: web.WebSocketResponse, state: ServerState, url_token: str | None = None, address: str = ""):
        self.ws, self.state, self.config = ws, state, state.config
        self.url_token, self.address = url_token, address
        self.session: LiveSession | None = None
        self._send_lock = asyncio.Lock()
        self._status_task: asyncio.Task | None = None
        self._stopped = False
        self._stopping: asyncio.Task | None = None

    async def guarded(self, work: Awaitable[None]) -> None:
        """Await `work`; an error is told to the client and the socket closed (a protocol error as itself, a
        client gone as one log line, anything else as `internal` with a traceback): the client never hangs."""
        try:
            await work
        except ProtocolError as exc:
            await self.refuse(exc)
        except CLIENT_GONE as exc:  # the client's doing, not ours: one line, no traceback
            log.info("stream connection from %s ended by the client (%s)", self.address, type(exc).__name__)
        except Exception as exc:  # a bug: tell the client and close, never hang
            log.exception("stream connection failed")
            await self.refuse(ProtocolError("internal", f"server error ({type(exc).__name__}: {exc})", CLOSE_INTERNAL))

    async def send(self, message: dict) -> None:
        """Send one JSON message; a client that does not take it within send_timeout is dropped."""
        async with self._send_lock:
            await asyncio.wait_for(self.ws.send_json(message), self.config.send_timeout)

    async def run(self) -> None:
        start = await self._receive_start()
        try:
            session, token = await self.state.open_session(start, self.address)
        except ProtocolError as exc:
            if exc.code != "busy":
                raise
            await self.send({"type": "busy", "retry_after": BUSY_RETRY_SECONDS, "message": exc.message})
            await self.ws.close(code=CLOSE_TRY_LATER, message=b"busy")
            return
        self.session = session
        await session.settle()
        await self.send({"type": "ready", "session": session.id, "token": token, "model_sample_rate": self.state.transcriber.sample_rate,
                         "audio_seconds": round(session.processed_frames / session.sample_rate, 6),
                         "audio_frames": session.processed_frames, "lookahead": round(session.core.lookahead, 4),
                         "latency": session.core.latency, "resumed": token is None})
        await session.attach(self.send, start.after_seq)
        self._status_task = asyncio.create_task(self._send_status())
        await self._receive_audio(PcmDecoder(start.encoding, start.channels))

    async def _receive_start(self) -> StartMessage:
        try:
            msg = await self.ws.receive(timeout=self.config.start_timeout)
        except TimeoutError as exc:
            raise ProtocolError("timeout", f"no start message within {self.config.start_timeout:g} s") from exc
        if msg.type != WSMsgType.TEXT:
            if msg.type == WSMsgType.BINARY:
                raise ProtocolError("bad_message", "send a JSON start message before any audio")
            self._log_protocol_error(msg)
            raise ConnectionResetError("the client left before starting")
        self._check_size(len(msg.data))
        message = parse_client_message(msg.data)
        if not isinstance(message, StartMessage):
            raise ProtocolError("bad_message", "the first message must be {\"type\": \"start\", ...}")
        if message.session is not None and message.token is None and self.url_token is not None:
            message = dataclasses.replace(message, token=self.url_token)  # resume with ?token= on the URL
        return message

    async def _receive_audio(self, decoder: PcmDecoder) -> None:
        session = self.session
        max_frames = self.config.max_session_seconds * session.sample_rate
        loop = asyncio.get_running_loop()
        async for msg in self.ws:
            if self._stopping is not None:  # after `stop`: keep reading only so that pings are answered
                continue
            if msg.type == WSMsgType.BINARY:
                self._check_size(len(msg.data))
                arrival = loop.time()
                frames = decoder.decode(msg.data)
                if frames.size:
                    await session.feed(frames, arrival)
                if session.received_frames > max_frames:
                    await self._finish_with_error(ProtocolError(
                        "session_too_long", f"sessions are limited to {self.config.max_session_seconds:g} s of audio; "
                        "the session was finalised: start a new one to go on"))
                    return
            elif msg.type == WSMsgType.TEXT:
                self._check_size(len(msg.data))
                message = parse_client_message(msg.data)
                if isinstance(message, StopMessage):
                    # finalising may queue behind other sessions' for seconds; aiohttp answers the client's
                    # pings only inside receive(), so the loop reads on until `final` closes the socket
                    self._stopping = asyncio.create_task(self.guarded(self._stop()))
                    continue
                raise ProtocolError("bad_message", "the session has already started; send audio frames or stop")
            else:
                self._log_protocol_error(msg)
        if self._stopping is not None:
            await self._stopping
            return
        log.info("session %s: connection dropped (%s); resumable for %g s", session.id, self.ws.close_code, self.config.resume_window)

    def _log_protocol_error(self, msg) -> None:
        """A frame the WebSocket layer refused (it has closed with 1002/1007/1009): one warning line."""
        if msg.type == WSMsgType.ERROR:
            log.warning("stream from %s: WebSocket protocol error, closed %s (%s)", self.address, self.ws.close_code,
                        " ".join(str(msg.data).split())[:200])

    def _check_size(self, size: int) -> None:
        limit = self.config.max_message_bytes
        if size > limit:
            self.state.metrics.refusals.inc(reason="too_large")
            raise ProtocolError("too_large", f"a message of {size} bytes is over the limit of {limit} bytes; send smaller frames",
                                CLOSE_TOO_BIG)

    async def _stop(self) -> None:
        self._stopped = True
        final = await self.state.finalise(self.session, "stopped by client")
        if final is None:
            raise ProtocolError("internal", f"session {self.session.id} could not be finalised", CLOSE_INTERNAL)
        await self._stop_status()
        await self.send(final)
        await self.ws.close(code=CLOSE_NORMAL, message=b"final")

    async def _finish_with_error(self, error: ProtocolError) -> None:
        self._stopped = True
        final = await self.state.finalise(self.session, error.code)
        await self._stop_status()
        if final is not None:
            await self.send(final)
        await self.refuse(error)

    async def shutdown(self) -> None:
        """The server is stopping: finalise this connection's session, send `final`, then close 1012."""
        if self.session is None or self._stopped:
            return
        await self._finish_with_error(ProtocolError("server_shutdown", "the server is shutting down; the session was finalised",
                                                    CLOSE_RESTART))

    async def refuse(self, error: ProtocolError) -> None:
        """Send an `error` and close with its code; the client is never left hanging."""
        log.info("stream refused: %s (%s)", error.code, error.message)
        with contextlib.suppress(Exception):
            if not self.ws.closed:
                await self.send(error.to_message())
        with contextlib.suppress(Exception):
            await self.ws.close(code=error.close_code, message=error.code.encode()[:120])

    async def release(self) -> None:
        """Connection over: stop status updates; a session not stopped waits for a resume."""
        await self._stop_status()
        session = self.session
        if session is None:
            return
        session.detach(self.send)
        if not self._stopped and self.state.live.get(session.id) is session:
            self.state.schedule_expiry(session)

    async def _stop_status(self) -> None:
        if self._status_task:
            self._status_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._status_task
            self._status_task = None

    async def _send_status(self) -> None:
        while True:
            await asyncio.sleep(self.config.status_interval)
            if self.session.sink == self.send:
                await self.send(self.session.status_message())
