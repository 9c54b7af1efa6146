"""What `bench soak` reads from the server (process facts, health, metrics, log) and the hostile requests it
trickles in: each a real client mistake with the answer docs/protocol.md documents for it."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.request
from dataclasses import dataclass

import aiohttp
import numpy as np

from notestream.server.process import ServerProcess


@dataclass(frozen=True)
class ServerSample:
    """The server process at one moment (time is perf_counter seconds)."""

    time: float
    rss_mb: float
    fds: int
    threads: int
    live_sessions: int
    connections: int
    jobs: int
    tracebacks: int
    load_average: float
    cpu_seconds: float = 0.0  # the server's user + system CPU time so far


def sample_server(server: ServerProcess) -> ServerSample:
    """Read /proc, /healthz, /metrics and the log (blocking: run it in an executor)."""
    pid = server.process.pid
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    fds = len(os.listdir(f"/proc/{pid}/fd"))  # before our own requests: their sockets may still be open after them
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    cpu_seconds = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    with urllib.request.urlopen(f"{server.http}/healthz", timeout=30) as response:
        health = json.load(response)
    with urllib.request.urlopen(f"{server.http}/metrics", timeout=30) as response:
        metrics = dict(line.rsplit(" ", 1) for line in response.read().decode().splitlines() if not line.startswith("#"))
    log = server.log.read_text(errors="replace") if server.log else ""
    return ServerSample(time.perf_counter(), int(status["VmRSS"].split()[0]) / 1024, fds,
                        int(status["Threads"]), health["live_sessions"], int(float(metrics["notestream_connections"])),
                        int(float(metrics["notestream_jobs_running"])), log.count("Traceback"), os.getloadavg()[0], cpu_seconds)


async def _ws_answer(server: ServerProcess, start: str | bytes) -> str | None:
    """Send one message as the first; the `code` of the error that comes back (None: none)."""
    from websockets.asyncio.client import connect

    async with connect(f"{server.url}/v1/stream") as ws:
        await ws.send(start)
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        return message.get("code")


async def bad_json(server: ServerProcess) -> bool:
    return await _ws_answer(server, '{"type": "start", "sample_rate": [[[') == "bad_message"


async def float_channels(server: ServerProcess) -> bool:
    start = json.dumps({"type": "start", "sample_rate": 16000, "encoding": "pcm_s16le", "channels": 1.0})
    return await _ws_answer(server, start) == "unsupported_encoding"


async def audio_before_start(server: ServerProcess) -> bool:
    return await _ws_answer(server, b"\0\0" * 100) == "bad_message"


async def vanish_mid_stream(server: ServerProcess) -> bool:
    """Start, send a second of audio, drop the TCP connection: the session waits for a resume, then expires."""
    from websockets.asyncio.client import connect

    ws = await connect(f"{server.url}/v1/stream")
    await ws.send(json.dumps({"type": "start", "sample_rate": 16000, "encoding": "f32le", "channels": 1}))
    ready = json.loads(await asyncio.wait_for(ws.recv(), 10))
    await ws.send((0.01 * np.random.default_rng(0).standard_normal(16000)).astype("<f4").tobytes())
    ws.transport.abort()
    return ready["type"] == "ready"


async def _upload(server: ServerProcess, body: bytes, content_type: str) -> tuple[int, str | None]:
    async with aiohttp.ClientSession() as client, client.post(f"{server.http}/v1/transcriptions", data=body,
                                                              headers={"Content-Type": content_type}) as response:
        return response.status, (await response.json()).get("error")


async def upload_not_audio(server: ServerProcess) -> bool:
    body = (b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.wav"\r\n\r\n' + b"not audio" * 100
            + b"\r\n--b--\r\n")
    return await _upload(server, body, "multipart/form-data; boundary=b") == (415, "unsupported_media")


async def upload_without_boundary(server: ServerProcess) -> bool:
    return await _upload(server, b"--b\r\n\r\n", "multipart/form-data") == (400, "bad_request")


async def garbage_http(server: ServerProcess) -> bool:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"\x16\x03\x01garbage\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(100), 10)
    writer.close()
    return answer.startswith(b"HTTP/1.") and answer.split(b" ")[1] == b"400"


HOSTILE_ACTIONS = (("bad_json", bad_json), ("float_channels", float_channels), ("audio_before_start", audio_before_start),
                   ("vanish_mid_stream", vanish_mid_stream), ("upload_not_audio", upload_not_audio),
                   ("upload_without_boundary", upload_without_boundary), ("garbage_http", garbage_http))
