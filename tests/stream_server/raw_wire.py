"""Bytes on a plain TCP socket: hand-made HTTP requests and WebSocket frames that no well-behaved client
library would send (reserved opcodes, RSV bits, invalid UTF-8, unmasked frames, cut-off bodies)."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct

HOST = "127.0.0.1"  # what hand-made requests send as Host (no Origin is sent, so no check depends on it)
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING = 0x0, 0x1, 0x2, 0x8, 0x9


def frame(opcode: int, payload: bytes, fin: bool = True, rsv: int = 0, masked: bool = True) -> bytes:
    """One client WebSocket frame (RFC 6455 5.2), masked as a client must, unless told otherwise."""
    head = bytes([(0x80 if fin else 0) | (rsv << 4) | opcode])
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head += bytes([mask_bit | size])
    elif size < 1 << 16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", size)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def text_frame(message: dict | str) -> bytes:
    return frame(OP_TEXT, (message if isinstance(message, str) else json.dumps(message)).encode())


async def open_raw_websocket(port: int, path: str = "/v1/stream") -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """TCP connect and complete the upgrade handshake by hand; returns the stream pair."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
    status = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    assert status.startswith(b"HTTP/1.1 101"), status
    return reader, writer


async def read_server_frames(reader: asyncio.StreamReader, timeout: float = 10.0) -> list[tuple[int, bytes]]:
    """Server frames (opcode, payload) until its close frame or EOF."""
    frames = []
    while True:
        try:
            head = await asyncio.wait_for(reader.readexactly(2), timeout)
        except (asyncio.IncompleteReadError, ConnectionError):
            return frames
        size = head[1] & 0x7F
        if size == 126:
            size = struct.unpack("!H", await reader.readexactly(2))[0]
        elif size == 127:
            size = struct.unpack("!Q", await reader.readexactly(8))[0]
        frames.append((head[0] & 0x0F, await reader.readexactly(size)))
        if frames[-1][0] == OP_CLOSE:
            return frames


def close_code(frames: list[tuple[int, bytes]]) -> int | None:
    """The code of the server's close frame (None: the connection ended without one)."""
    closes = [payload for opcode, payload in frames if opcode == OP_CLOSE]
    return struct.unpack("!H", closes[0][:2])[0] if closes and len(closes[0]) >= 2 else None


def error_codes(frames: list[tuple[int, bytes]]) -> list[str]:
    """The `code` of each `error` (or "busy") message among the server's text frames."""
    messages = [json.loads(payload) for opcode, payload in frames if opcode == OP_TEXT]
    return [m.get("code", "busy") for m in messages if m["type"] in ("error", "busy")]


async def raw_http(port: int, request: bytes, timeout: float = 10.0) -> bytes:
    """Send raw bytes and return everything the server answers until it closes (or `timeout` passes)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        answer = b""
        while chunk := await asyncio.wait_for(reader.read(65536), timeout):
            answer += chunk
        return answer
    except (TimeoutError, ConnectionError):
        return answer
    finally:
        writer.close()


def http_status(answer: bytes) -> int | None:
    """The status code of a raw HTTP answer (None: no answer)."""
    parts = answer.split(b" ", 2)
    return int(parts[1]) if answer.startswith(b"HTTP/1.") and len(parts) > 1 else None


def multipart_body(boundary: str, parts: list[tuple[bytes, bytes]]) -> bytes:
    """A multipart body from (header block, content) pairs, for bodies a form library refuses to build."""
    body = b""
    for headers, content in parts:
        body += f"--{boundary}\r\n".encode() + headers + b"\r\n\r\n" + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


def post(path: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    """A raw POST request with an exact body and Content-Length."""
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n{extra}\r\n").encode() + body
