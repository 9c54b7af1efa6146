"""Generated hostile HTTP cases for test_fuzz.py: uploads of every broken shape, hostile names and paths, and
bytes that are not HTTP at all; each with the status (and JSON error code) docs/protocol.md promises."""

from __future__ import annotations

import asyncio
import io
import json
from dataclasses import dataclass
from urllib.parse import quote

import numpy as np
from scipy.io import wavfile

from tests.stream_server.raw_wire import HOST, http_status, multipart_body, post, raw_http

UPLOAD = "/v1/transcriptions"
BOUNDARY = "fuzzboundary"


@dataclass(frozen=True)
class HttpCase:
    """Raw request bytes and the documented answer: (status, JSON error code or None for a non-JSON answer)."""

    name: str
    request: bytes
    expected: tuple[int | None, str | None]
    cut: bool = False  # the request is sent incompletely and the client then leaves: no answer to read

    async def run(self, port: int) -> tuple[int | None, str | None]:
        if self.cut:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(self.request)
            await writer.drain()
            await asyncio.sleep(0.2)
            writer.transport.abort()
            return self.expected
        answer = await raw_http(port, self.request)
        body = answer.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in answer else b""
        try:
            code = json.loads(body).get("error")
        except ValueError:
            code = None
        return http_status(answer), code


def short_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    """A quiet tone as 16-bit WAV bytes: a real, tiny audio file."""
    t = np.arange(int(seconds * rate)) / rate
    buffer = io.BytesIO()
    wavfile.write(buffer, rate, (3000 * np.sin(2 * np.pi * 440 * t)).astype(np.int16))
    return buffer.getvalue()


def file_part(content: bytes, disposition: bytes = b'form-data; name="file"; filename="take.wav"') -> tuple[bytes, bytes]:
    return b"Content-Disposition: " + disposition, content


def upload_request(parts: list[tuple[bytes, bytes]], content_type: str | None = None) -> bytes:
    body = multipart_body(BOUNDARY, parts)
    return post(UPLOAD, content_type or f"multipart/form-data; boundary={BOUNDARY}", body)


def form_cases() -> list[HttpCase]:
    """Bodies that are not the multipart form the protocol asks for."""
    wav = short_wav()
    good = [file_part(wav)]
    nested = multipart_body("inner", good)
    return [
        HttpCase("no-content-type", post(UPLOAD, "", wav), (400, "bad_request")),
        HttpCase("text-plain", post(UPLOAD, "text/plain", wav), (400, "bad_request")),
        HttpCase("json-body", post(UPLOAD, "application/json", b'{"file": 1}'), (400, "bad_request")),
        HttpCase("multipart-without-boundary", upload_request(good, "multipart/form-data"), (400, "bad_request")),
        HttpCase("multipart-wrong-boundary", upload_request(good, "multipart/form-data; boundary=other"), (400, "bad_request")),
        HttpCase("multipart-boundary-too-long", upload_request(good, "multipart/form-data; boundary=" + "b" * 80),
                 (400, "bad_request")),
        HttpCase("multipart-empty-body", post(UPLOAD, f"multipart/form-data; boundary={BOUNDARY}", b""), (400, "bad_request")),
        HttpCase("multipart-only-closing", post(UPLOAD, f"multipart/form-data; boundary={BOUNDARY}", f"--{BOUNDARY}--\r\n".encode()),
                 (400, "bad_request")),
        HttpCase("multipart-no-final-boundary", post(UPLOAD, f"multipart/form-data; boundary={BOUNDARY}",
                                                     multipart_body(BOUNDARY, good)[:-20]), (202, None)),
        HttpCase("nested-multipart", upload_request([(b'Content-Disposition: form-data; name="file"\r\n'
                                                            b"Content-Type: multipart/mixed; boundary=inner", nested)]),
                 (400, "bad_request")),
        HttpCase("no-file-field", upload_request([file_part(wav, b'form-data; name="audio"; filename="a.wav"')]),
                 (400, "bad_request")),
        HttpCase("file-field-without-filename", upload_request([file_part(wav, b'form-data; name="file"')]), (400, "bad_request")),
        HttpCase("unknown-transfer-encoding", upload_request([(b'Content-Disposition: form-data; name="file"; filename="a.wav"'
                                                                     b"\r\nContent-Transfer-Encoding: rot13", wav)]),
                 (202, None)),
        HttpCase("declared-too-large", post(UPLOAD, f"multipart/form-data; boundary={BOUNDARY}", b"")
                 .replace(b"Content-Length: 0", b"Content-Length: 999999999999"), (413, "too_large")),
    ]


def name_cases() -> list[HttpCase]:
    """Hostile file names: never a name on disk, only cleaned text; a known audio extension decides."""
    wav = short_wav()
    accepted = {
        "long-name": b"x" * 300 + b".wav",
        "very-long-name": b"y" * 5000 + b".wav",
        "path-traversal": b"../../../../etc/passwd.wav",
        "windows-path": b"C:\\\\Windows\\\\win.wav",
        "invalid-utf8": b"caf\xe9\xff.wav",
        "unicode": "Klavier – Übung ♪.wav".encode(),
        "right-to-left-override": "evil\u202ewav.wav".encode(),
        "upper-case-extension": b"TAKE.WAV",
        "double-extension": b"take.mp3.wav",
    }
    refused = {"no-extension": b"take", "exe": b"take.exe", "wav-exe": b"take.wav.exe", "dot-only": b".", "empty-name-ext": b".wav ",
               "trailing-dot": b"take.wav."}
    cases = [HttpCase(f"name-{k}", upload_request([file_part(wav, b'form-data; name="file"; filename="' + v + b'"')]), (202, None))
             for k, v in accepted.items()]
    cases += [HttpCase(f"name-{k}", upload_request([file_part(wav, b'form-data; name="file"; filename="' + v + b'"')]),
                       (415, "unsupported_media")) for k, v in refused.items()]
    encoded = {"newline": "a\nb.wav", "nul": "a\x00b.wav", "cr-lf-header": "a\r\nX-Evil: 1.wav", "slashes": "/a/b/c.wav"}
    cases += [HttpCase(f"name-rfc5987-{k}", upload_request([file_part(
        wav, b"form-data; name=\"file\"; filename*=UTF-8''" + quote(v, safe="").encode())]), (202, None)) for k, v in encoded.items()]
    cases.append(HttpCase("name-unparseable", upload_request([file_part(wav, b"form-data; name=\"file\"; filename*=UTF-8''/a/b.wav")]),
                          (400, "bad_request")))
    return cases


def content_cases() -> list[HttpCase]:
    """Files whose bytes are not (whole) audio."""
    wav = short_wav(1.0)
    cases = [HttpCase(f"content-{name}", upload_request([file_part(data)]), (415, "unsupported_media")) for name, data in (
        ("empty", b""), ("text", b"not audio " * 50), ("header-only", wav[:44]), ("riff-garbage", b"RIFF" + bytes(range(256)) * 4),
        ("zeros", b"\0" * 5000), ("png", b"\x89PNG\r\n\x1a\n" + b"\0" * 100))]
    cases += [HttpCase(f"content-wav-cut-at-{n}", upload_request([file_part(wav[:n])]), (202, None))
              for n in (len(wav) // 2, len(wav) - 1)]
    return cases


def aborted_upload_cases() -> list[HttpCase]:
    """Bodies cut off by a client that leaves: nothing may be left in incoming/."""
    full = upload_request([file_part(short_wav(2.0))])
    return [HttpCase(f"upload-cut-at-{fraction}", full[:int(len(full) * fraction)], (None, None), cut=True)
            for fraction in (0.1, 0.5, 0.9, 0.999)]


def not_http_cases() -> list[HttpCase]:
    """Bytes that are not a valid HTTP request: aiohttp answers 400 (plain text) and logs one warning line."""
    host = f"Host: {HOST}\r\n"
    garbage = {
        "garbage-line": b"GARBAGE\r\n\r\n",
        "tls-client-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64,
        "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "bad-version": b"GET / HTTP/9.9\r\n" + host.encode() + b"\r\n",
        "header-without-colon": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"NoColonHere\r\n\r\n",
        "header-name-space": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"Bad Name: x\r\n\r\n",
        "header-line-too-long": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"X-Long: " + b"a" * 9000 + b"\r\n\r\n",
        "request-line-too-long": b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "content-length-letters": b"POST /v1/transcriptions HTTP/1.1\r\n" + host.encode() + b"Content-Length: abc\r\n\r\n",
        "content-length-twice": b"POST /v1/transcriptions HTTP/1.1\r\n" + host.encode() + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nx",
        "chunked-and-length": (b"POST /v1/transcriptions HTTP/1.1\r\n" + host.encode() +
                               b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        "bad-chunk-size": b"POST /v1/transcriptions HTTP/1.1\r\n" + host.encode() + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nx\r\n",
        "nul-in-path": b"GET /heal\0thz HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "control-in-header": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"X-A: a\x01b\r\n\r\n",
    }
    return [HttpCase(f"raw-{name}", data + b"", (400, None)) for name, data in garbage.items()]


def path_cases() -> list[HttpCase]:
    """Hostile ids, paths, methods and query values on the HTTP routes."""
    def get(path: str, method: str = "GET", headers: str = "") -> bytes:
        return f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n{headers}\r\n".encode()

    ids = {"long": "s_" + "a" * 3000, "unicode": quote("s_ü♪"), "nul": "s_%00", "dots": "..", "sql": quote("s_' OR 1=1 --")}
    cases = []
    for name, session_id in ids.items():
        code = "unknown_export" if "." in session_id else "unknown_session"  # a dot starts an export suffix
        cases.append(HttpCase(f"session-id-{name}", get(f"/v1/sessions/{session_id}?token=x"), (404, code)))
        cases.append(HttpCase(f"job-id-{name}", get(f"/v1/transcriptions/{session_id}?token=x"), (404, "unknown_session")))
        cases.append(HttpCase(f"cancel-job-id-{name}", get(f"/v1/transcriptions/{session_id}?token=x", "DELETE"),
                              (404, "unknown_session")))
    cases += [
        HttpCase("export-unknown-suffix", get("/v1/sessions/s_x.exe?token=x"), (404, "unknown_export")),
        HttpCase("static-traversal", get("/static/../../../etc/passwd"), (404, "not_found")),
        HttpCase("static-encoded-traversal", get("/static/%2e%2e/%2e%2e/etc/passwd"), (404, "not_found")),
        HttpCase("static-python-source", get("/static/__init__.py"), (404, "not_found")),
        HttpCase("stream-without-upgrade", get("/v1/stream"), (400, None)),
        HttpCase("stream-bad-websocket-version", get("/v1/stream", headers="Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                                     "Sec-WebSocket-Key: x\r\nSec-WebSocket-Version: 99\r\n"), (400, None)),
        HttpCase("put-stream", get("/v1/stream", "PUT"), (405, None)),
        HttpCase("delete-healthz", get("/healthz", "DELETE"), (405, None)),
        HttpCase("unknown-path", get("/v2/anything"), (404, None)),
        HttpCase("bearer-garbage", get("/v1/sessions/s_x", headers="Authorization: Bearer \xff\xfe\r\n"), (404, "unknown_session")),
    ]
    return cases


def all_http_cases() -> list[HttpCase]:
    return (form_cases() + name_cases() + content_cases() + aborted_upload_cases() + not_http_cases()
            + path_cases())
