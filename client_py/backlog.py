"""Audio the server has not yet acknowledged, kept so that a resumed session loses nothing.

The server acknowledges audio by reporting `audio_frames` (in `ready` and `status`); everything after
that point stays here and is resent after a reconnect. The backlog also remembers when each piece of
audio first went out, so the client can tell how long a note took to come back (its latency).
"""

from __future__ import annotations

import bisect
from collections import deque

from .audio_format import AudioFormat
from .errors import ConnectionLost


class BacklogOverflow(ConnectionLost):
    """More unacknowledged audio piled up than the client may hold (the server is gone too long)."""


class AudioBacklog:
    """Unacknowledged wire bytes, addressed by frame (sample index) since the session began."""

    def __init__(self, audio_format: AudioFormat, max_seconds: float = 600.0):
        self.format = audio_format
        self.max_bytes = int(max_seconds * audio_format.bytes_per_second)
        self._chunks: deque[bytes] = deque()
        self._start_byte = 0  # session byte offset of the first byte held
        self._held = 0
        self._partial = b""  # a trailing part-frame, held until the rest of the frame arrives

    @property
    def total_bytes(self) -> int:
        """Whole-frame bytes received from the source since the session began."""
        return self._start_byte + self._held

    @property
    def total_seconds(self) -> float:
        return self.format.seconds(self.total_bytes)

    @property
    def start_seconds(self) -> float:
        """The earliest audio still held (everything before it was acknowledged)."""
        return self.format.seconds(self._start_byte)

    def append(self, data: bytes) -> bytes:
        """Take new audio; return the whole frames that are now ready to send."""
        data = self._partial + bytes(data)
        whole = len(data) - len(data) % self.format.frame_bytes
        self._partial = data[whole:]
        ready = data[:whole]
        if ready:
            if self._held + len(ready) > self.max_bytes:
                raise BacklogOverflow(
                    f"{self.format.seconds(self._held + len(ready)):.0f} s of audio is waiting for the server, "
                    f"more than the {self.format.seconds(self.max_bytes):.0f} s this client keeps")
            self._chunks.append(ready)
            self._held += len(ready)
        return ready

    def acknowledge(self, frames: int) -> None:
        """Forget audio before frame `frames`: the server has stored it."""
        target = min(frames * self.format.frame_bytes, self.total_bytes)
        while self._chunks and self._start_byte + len(self._chunks[0]) <= target:
            chunk = self._chunks.popleft()
            self._start_byte += len(chunk)
            self._held -= len(chunk)
        if self._chunks and self._start_byte < target:
            cut = target - self._start_byte
            self._chunks[0] = self._chunks[0][cut:]
            self._start_byte, self._held = target, self._held - cut

    def since(self, frames: int) -> bytes:
        """All held audio from frame `frames` on, for resending after a reconnect."""
        offset = frames * self.format.frame_bytes
        if offset < self._start_byte:
            raise BacklogOverflow(
                f"the server asks for audio from {self.format.seconds(offset):.2f} s but this client only "
                f"holds audio from {self.start_seconds:.2f} s")
        return b"".join(self._chunks)[offset - self._start_byte:]


class SendTimeline:
    """When the audio up to each point first went out (monotonic clock), for event latency."""

    def __init__(self, max_entries: int = 20_000):
        self.max_entries = max_entries
        self._ends: list[float] = []  # audio seconds at the end of each sent piece, increasing
        self._times: list[float] = []
        self._forgotten_before = 0.0

    def record(self, audio_end_seconds: float, sent_at: float) -> None:
        if self._ends and audio_end_seconds <= self._ends[-1]:
            return  # a resend: keep the first send time, so latency includes the outage
        self._ends.append(audio_end_seconds)
        self._times.append(sent_at)
        if len(self._ends) > self.max_entries:
            drop = self.max_entries // 2
            self._forgotten_before = self._ends[drop - 1]
            del self._ends[:drop], self._times[:drop]

    def sent_at(self, audio_seconds: float) -> float | None:
        """When the audio at `audio_seconds` was first sent; None if unknown (never sent or forgotten)."""
        i = bisect.bisect_left(self._ends, audio_seconds - 1e-9)
        if i >= len(self._ends) or audio_seconds < self._forgotten_before:
            return None
        return self._times[i]
