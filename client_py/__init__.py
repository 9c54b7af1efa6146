"""Python client for a notestream server: stream live audio, receive notes as they are decided.

`StreamClient` is the async library API; `notestream stream` is the command built on it.
"""

from notestream.notes import events_to_performance

from .audio_format import AudioFormat
from .client import StreamClient, stream_url
from .connection import Ready
from .errors import ConnectionLost, ServerBusy, ServerUnreachable, StreamClientError, StreamRefused
from .events import LiveEvent, StreamEvent, StreamFinal, StreamStatus

__all__ = [
    "AudioFormat", "ConnectionLost", "LiveEvent", "Ready", "ServerBusy", "ServerUnreachable", "StreamClient",
    "StreamClientError", "StreamEvent", "StreamFinal", "StreamRefused", "StreamStatus", "events_to_performance",
    "stream_url",
]
