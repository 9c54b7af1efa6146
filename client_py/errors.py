"""Errors a stream client reports; each message is one sentence a user can act on."""

from __future__ import annotations


class StreamClientError(Exception):
    """Base of every stream client failure."""


class ServerUnreachable(StreamClientError):
    """No WebSocket connection could be opened (wrong address, server down, network)."""


class ServerBusy(StreamClientError):
    """The server is at capacity; try again after `retry_after` seconds."""

    def __init__(self, retry_after: float):
        self.retry_after = retry_after
        super().__init__(f"the server is busy; try again in {retry_after:g} s")


class StreamRefused(StreamClientError):
    """The server refused the session or ended it with an error (`code` as in the protocol)."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(f"the server refused the stream ({code}): {message}" if message else
                         f"the server refused the stream ({code})")


class ConnectionLost(StreamClientError):
    """The connection dropped and the session could not be resumed."""
