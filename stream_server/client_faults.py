"""A client's protocol mistakes in the log as one warning line each, never as a traceback.

aiohttp logs malformed requests (bad request lines, headers, chunking, TLS sent to a plain port) and
connections that vanish mid-request with the exception attached, which an operator reads as a server
bug. This filter keeps the line and the reason and drops the traceback, for client-caused errors only.
"""

from __future__ import annotations

import asyncio
import logging
import warnings

from aiohttp import BadContentDispositionHeader, BadContentDispositionParam, ClientPayloadError
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.http_websocket import WebSocketError

CLIENT_FAULTS = (HttpProcessingError, ClientPayloadError, WebSocketError, ConnectionError, asyncio.IncompleteReadError)
AIOHTTP_LOGGERS = ("aiohttp.server", "aiohttp.web", "aiohttp.websocket")


class ClientFaultFilter(logging.Filter):
    """Rewrites a record whose exception the client caused into a single WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, CLIENT_FAULTS):
            reason = " ".join(str(exc).split())[:300]  # aiohttp's parser messages span lines
            record.msg = f"{record.getMessage()}: client error {type(exc).__name__}: {reason}"
            record.args = ()
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


FILTER = ClientFaultFilter()


def install_client_fault_filter() -> None:
    """Attach the filter to aiohttp's loggers (idempotent), and silence aiohttp's warnings about a client's
    malformed Content-Disposition (the upload is refused with a 400 that says so)."""
    for name in AIOHTTP_LOGGERS:
        logging.getLogger(name).addFilter(FILTER)
    for category in (BadContentDispositionHeader, BadContentDispositionParam):
        warnings.filterwarnings("ignore", category=category)
