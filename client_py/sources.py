"""Where live audio comes from: an audio file (paced in real time or as fast as possible), raw PCM on
a byte stream such as stdin, or a microphone through sounddevice.

Each source has a `format` (what `start` declares) and `chunks()`, an async iterator of wire bytes.
Blocking work (decoding, reading a pipe) runs in a thread so the event loop stays responsive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from notestream.audio import iter_audio_chunks

from .audio_format import AudioFormat
from .errors import StreamClientError

FILE_SAMPLE_RATE = 16000  # the shipped model's rate: the server need not resample


class AudioSource(Protocol):
    format: AudioFormat

    def chunks(self) -> AsyncIterator[bytes]: ...


class FileSource:
    """An audio file in any format PyAV decodes, sent as mono f32le in pieces of `chunk_seconds`.

    With `realtime` each piece leaves when it would have been heard, as if the file were playing.
    """

    def __init__(self, path: str | Path, realtime: bool = True, sample_rate: int = FILE_SAMPLE_RATE,
                 chunk_seconds: float = 0.1):
        self.path = Path(path)
        self.realtime = realtime
        self.chunk_seconds = chunk_seconds
        self.format = AudioFormat(sample_rate, "f32le", 1)

    async def chunks(self) -> AsyncIterator[bytes]:
        piece = max(1, int(self.chunk_seconds * self.format.sample_rate))
        decoded = iter_audio_chunks(self.path, self.format.sample_rate, chunk_seconds=2.0)
        start = time.monotonic()
        sent = 0
        while (block := await asyncio.to_thread(next, decoded, None)) is not None:
            for i in range(0, block.size, piece):
                samples = block[i:i + piece]
                if self.realtime:
                    await asyncio.sleep(max(0.0, start + sent / self.format.sample_rate - time.monotonic()))
                yield self.format.encode(samples)
                sent += samples.size


class StreamSource:
    """Raw interleaved PCM from a binary stream (stdin by default) in the declared format, sent as read."""

    def __init__(self, stream: BinaryIO, audio_format: AudioFormat, read_bytes: int = 8192):
        self.stream = stream
        self.format = audio_format
        self.read_bytes = read_bytes

    async def chunks(self) -> AsyncIterator[bytes]:
        read = getattr(self.stream, "read1", self.stream.read)
        while data := await asyncio.to_thread(read, self.read_bytes):
            yield data


class MicrophoneSource:
    """Live input from a sound card through sounddevice, as f32le at `sample_rate` with `channels`.

    Audio arrives on PortAudio's thread and waits in a bounded queue; if the network stalls long
    enough to fill it, the oldest audio is dropped and counted in `dropped_seconds`.
    """

    def __init__(self, device: int | str | None = None, sample_rate: int = FILE_SAMPLE_RATE, channels: int = 1,
                 block_seconds: float = 0.05, max_queue_seconds: float = 30.0):
        self.device = resolve_input_device(device)
        self.format = AudioFormat(sample_rate, "f32le", channels)
        self.block_frames = max(1, int(block_seconds * sample_rate))
        self.max_blocks = max(1, int(max_queue_seconds / block_seconds))
        self.dropped_seconds = 0.0

    async def chunks(self) -> AsyncIterator[bytes]:
        import sounddevice as sd

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[bytes] = asyncio.Queue(self.max_blocks)

        def deliver(data: bytes) -> None:
            if queue.full():
                queue.get_nowait()
                self.dropped_seconds += self.block_frames / self.format.sample_rate
            queue.put_nowait(data)

        def callback(indata: np.ndarray, frames: int, _time, _status) -> None:
            loop.call_soon_threadsafe(deliver, indata.astype("<f4").tobytes())

        try:
            stream = sd.InputStream(device=self.device, samplerate=self.format.sample_rate,
                                    channels=self.format.channels, dtype="float32",
                                    blocksize=self.block_frames, callback=callback)
        except (sd.PortAudioError, ValueError) as exc:
            raise StreamClientError(f"cannot open input device {self.device!r}: {exc}") from exc
        with stream:
            while True:
                yield await queue.get()


def input_devices() -> Iterator[tuple[int, str, int, float]]:
    """(index, name, input channels, default sample rate) for every device that can record."""
    try:
        import sounddevice as sd

        devices = sd.query_devices()
    except (OSError, ImportError) as exc:
        raise StreamClientError(f"cannot list audio devices ({exc})") from exc
    for index, info in enumerate(devices):
        if info["max_input_channels"] > 0:
            yield index, info["name"], info["max_input_channels"], info["default_samplerate"]


def describe_input_devices() -> str:
    """A table of input devices for `--list-devices`."""
    rows = [f"{i:3d}  {name}  ({ch} ch, {rate:g} Hz)" for i, name, ch, rate in input_devices()]
    return "\n".join(rows) if rows else "no audio input devices found"


def resolve_input_device(wanted: int | str | None) -> int | None:
    """A device index from an index, or a (unique) part of a device name; None means the default."""
    if wanted is None:
        return None
    devices = list(input_devices())
    if isinstance(wanted, int) or str(wanted).isdigit():
        index = int(wanted)
        if any(i == index for i, *_ in devices):
            return index
        raise StreamClientError(f"no audio input device with index {index}; see --list-devices")
    matches = [i for i, name, *_ in devices if str(wanted).lower() in name.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise StreamClientError(f"input device name {wanted!r} matches several devices; see --list-devices")
    raise StreamClientError(f"no audio input device named {wanted!r}; see --list-devices")
