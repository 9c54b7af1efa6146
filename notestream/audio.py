"""Audio decoding with PyAV: any container FFmpeg reads, to mono float32 at a given rate, in chunks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av
import numpy as np

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".mov", ".webm", ".mkv", ".aiff", ".aif", ".wma"}
)


class AudioDecodeError(ValueError):
    """A file could not be decoded as audio; the message names the file and the reason."""


def iter_audio_chunks(path: str | Path, sample_rate: int, chunk_seconds: float = 30.0,
                      damaged: Callable[[str], None] | None = None) -> Iterator[np.ndarray]:
    """Yield mono float32 chunks of about `chunk_seconds` at `sample_rate`; memory stays bounded.

    A decoding error raises AudioDecodeError; with `damaged` given, an error after some audio instead ends the
    audio there (everything before it is yielded) and `damaged` is told where and why it was cut.
    """
    path = Path(path)
    _check_readable_file(path)
    chunk_len = max(1, int(chunk_seconds * sample_rate))
    pending: list[np.ndarray] = []
    pending_len = 0
    produced = 0
    try:
        for block in _decode_blocks(path, sample_rate):
            pending.append(block)
            pending_len += block.size
            while pending_len >= chunk_len:
                joined = np.concatenate(pending)
                yield joined[:chunk_len]
                produced += chunk_len
                rest = joined[chunk_len:]
                pending, pending_len = [rest], rest.size
    except AudioDecodeError:
        raise
    except (av.error.FFmpegError, ValueError, IndexError, OSError) as exc:
        decoded = produced + pending_len
        if damaged is None or decoded == 0:
            raise AudioDecodeError(f"{path}: cannot decode audio ({exc})") from exc
        damaged(f"the audio is damaged after {decoded / sample_rate:.2f} s and was cut there ({exc})")
    if pending_len:
        yield np.concatenate(pending)
        produced += pending_len
    if produced == 0:
        raise AudioDecodeError(f"{path}: the file holds no audio samples")


def _check_readable_file(path: Path) -> None:
    """Fail early, naming the file, for paths that cannot hold audio at all."""
    if path.is_dir():
        raise AudioDecodeError(f"{path}: is a folder, not an audio file")
    if not path.is_file():
        raise AudioDecodeError(f"{path}: no such file")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise AudioDecodeError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    if size == 0:
        raise AudioDecodeError(f"{path}: the file is empty")


def _decode_blocks(path: Path, sample_rate: int) -> Iterator[np.ndarray]:
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as exc:
        raise AudioDecodeError(f"{path}: not a readable audio or video file ({exc})") from exc
    with container:
        if not container.streams.audio:
            raise AudioDecodeError(f"{path}: the file has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1).astype(np.float32, copy=False)


def decode_audio(path: str | Path, sample_rate: int) -> np.ndarray:
    """The whole file as one mono float32 array; use `iter_audio_chunks` for long recordings."""
    return np.concatenate(list(iter_audio_chunks(path, sample_rate)))


def audio_duration(path: str | Path) -> float | None:
    """Duration in seconds from the container header, or None when it does not say."""
    try:
        with av.open(str(path)) as container:
            if container.streams.audio and container.streams.audio[0].duration is not None:
                stream = container.streams.audio[0]
                return float(stream.duration * stream.time_base)
            if container.duration is not None:
                return container.duration / 1_000_000
    except av.error.FFmpegError:
        return None
    return None


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int) -> None:
    """Write mono float audio as 16-bit PCM WAV."""
    from scipy.io import wavfile

    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype(np.int16)
    wavfile.write(str(path), sample_rate, pcm)
