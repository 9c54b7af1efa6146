"""Opening one WebSocket connection and the `start` -> `ready` handshake (new or resumed session)."""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection

from .audio_format import AudioFormat
from .errors import ServerBusy, ServerUnreachable, StreamClientError, StreamRefused

MAX_MESSAGE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Ready:
    """The server accepted the session: its id, the resume token, and the audio it already stored
    (`audio_frames` at the session's rate: a resuming client resends from that frame)."""

    session: str
    token: str
    audio_frames: int = 0
    audio_seconds: float = 0.0
    model_sample_rate: int = 16000
    lookahead: float = 0.0
    resumed: bool = False

    @classmethod
    def from_message(cls, message: dict, sample_rate: int, resumed_from: Ready | None = None) -> Ready:
        """Parse `ready`; a resumed session may omit its token (the client already holds it)."""
        seconds = float(message.get("audio_seconds", 0.0))
        frames = message.get("audio_frames")
        token = message.get("token") or (resumed_from.token if resumed_from else None)
        if not token:
            raise ValueError("no token")
        return cls(str(message["session"]), str(token),
                   int(frames) if frames is not None else round(seconds * sample_rate), seconds,
                   int(message.get("model_sample_rate", 16000)), float(message.get("lookahead", 0.0)),
                   bool(message.get("resumed", False)))


async def open_session(url: str, audio_format: AudioFormat, resume: Ready | None, timeout: float,
                       after_seq: int = 0, latency: str | None = None) -> tuple[ClientConnection, Ready]:
    """Connect, send `start` (with session, token and the last event seq seen when resuming; with the
    latency asked for when starting) and wait for `ready`."""
    ws = await _connect(resume_url(url, resume.session) if resume else url, timeout)
    start = {"type": "start", **audio_format.start_fields()}
    if resume is not None:
        start.update(session=resume.session, token=resume.token, after_seq=after_seq)
    elif latency is not None:
        start["latency"] = latency
    try:
        await asyncio.wait_for(ws.send(json.dumps(start)), timeout)
        reply = await asyncio.wait_for(_first_json(ws), timeout)
    except TimeoutError as exc:
        await ws.close()
        raise ServerUnreachable(f"the server at {url} did not answer `start` within {timeout:g} s") from exc
    except websockets.ConnectionClosed as exc:
        raise ServerUnreachable(f"the server at {url} closed the connection during the handshake ({exc})") from exc
    except BaseException:
        await ws.close()
        raise
    kind = reply.get("type")
    if kind == "ready":
        try:
            return ws, Ready.from_message(reply, audio_format.sample_rate, resume)
        except (KeyError, TypeError, ValueError) as exc:
            await ws.close()
            raise StreamClientError(f"the server's `ready` message is malformed: {reply}") from exc
    await ws.close()
    if kind == "busy":
        raise ServerBusy(float(reply.get("retry_after", 5.0)))
    if kind == "error":
        raise StreamRefused(str(reply.get("code", "error")), str(reply.get("message", "")))
    raise StreamClientError(f"the server answered `start` with an unexpected message: {reply}")


def resume_url(url: str, session: str) -> str:
    """The stream URL with `?session=ID`: a load balancer routes a resume on it to the replica holding the
    session (the `start` message that also names it is out of the balancer's sight)."""
    parts = urlsplit(url)
    query = (parts.query + "&" if parts.query else "") + urlencode({"session": session})
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


async def _connect(url: str, timeout: float) -> ClientConnection:
    where = urlsplit(url).netloc
    try:
        return await websockets.connect(url, open_timeout=timeout, max_size=MAX_MESSAGE_BYTES, compression=None)
    except websockets.InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise StreamRefused("unauthorized", f"HTTP {status} from {where}; check --api-key") from exc
        if status == 503:
            raise ServerBusy(float(exc.response.headers.get("Retry-After", 5) or 5)) from exc
        raise ServerUnreachable(f"{url} is not a notestream stream endpoint (HTTP {status})") from exc
    except websockets.InvalidURI as exc:
        raise ServerUnreachable(f"{url} is not a valid server address") from exc
    except (websockets.InvalidHandshake, websockets.InvalidMessage) as exc:
        raise ServerUnreachable(f"{where} did not answer as a WebSocket server ({exc})") from exc
    except TimeoutError as exc:
        raise ServerUnreachable(f"no answer from {where} within {timeout:g} s") from exc
    except OSError as exc:
        reason = os.strerror(exc.errno).lower() if exc.errno else str(exc)
        raise ServerUnreachable(f"cannot reach the server at {where}: {reason}; is `notestream serve` running?") from exc


async def _first_json(ws: ClientConnection) -> dict:
    """The first text message (binary frames are not expected before `ready`)."""
    while True:
        raw = await ws.recv()
        if isinstance(raw, str):
            try:
                message = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise StreamClientError(f"the server sent a message that is not JSON ({exc})") from exc
            if isinstance(message, dict):
                return message
