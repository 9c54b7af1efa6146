"""The library API: `Transcriber.from_checkpoint().transcribe(path_or_array)`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from notestream.audio import iter_audio_chunks

from .checkpoint import (
    LoadedModel,
    algorithmic_latency,
    latency_names,
    load_checkpoint,
    with_latency,
    with_views,
)
from .config import ACCURATE, WindowConfig
from .incremental import padded_size
from .inference import Transcription, TranscriptionStream, advance_streams, finish_streams

CHUNK_SECONDS = 5.0  # audio per network round offline: longer rounds hold more transient maps (five views)
WARM_UP_SECONDS = 6.0  # long enough for a whole CPU CNN tile (incremental.CNN_TILE_FRAMES) and its neighbours
# Live warm-up chunks per stream and round: a client's 20 ms packet, then new-frame counts that reach every padded
# CNN length (`padded_size`) a round meets, up to 1.3 s of backlog.
LIVE_PACKET_SECONDS = 0.02
LIVE_WARM_UP_FRAMES = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 80)


class Transcriber:
    """A loaded model that transcribes whole recordings (chunked: memory stays flat) or opens streams."""

    def __init__(self, loaded: LoadedModel, window: WindowConfig | None = None):
        self.loaded = loaded
        self.window = window or loaded.window
        self.warm_batches: dict[str, set[int]] = {}  # latency -> live batch sizes already run

    @classmethod
    def from_checkpoint(cls, path: str | Path | None = None, device: str = "auto", window: WindowConfig | None = None,
                        views: tuple[int, ...] | None = None, precision: str = "auto",
                        onset_threshold: float | None = None) -> Transcriber:
        """Load a checkpoint (the shipped one when `path` is None) on 'auto', 'cpu' or 'cuda'; `views` picks another
        of its calibrated view sets (fewer views: faster; more: more accurate); `precision` is the compute type of
        the CNN and the GRU input projection ('auto': bfloat16 on CPUs with native bf16 units, else float32);
        `onset_threshold` replaces its decoder's (`DecoderConfig.with_onset_threshold`; the named latencies keep theirs)."""
        loaded = load_checkpoint(path, device, precision=precision)
        if views is not None:
            loaded = with_views(loaded, views)
        if onset_threshold is not None:
            loaded = replace(loaded, decoder=loaded.decoder.with_onset_threshold(onset_threshold))
        transcriber = cls(loaded, window)
        transcriber.warm_up()
        return transcriber

    def warm_up(self, seconds: float = WARM_UP_SECONDS) -> None:
        """Transcribe a few seconds of faint noise and discard them, so the first real recording does not pay
        for the math library's one-off set-up of its kernels (oneDNN builds one per tensor shape)."""
        noise = np.random.default_rng(0).standard_normal(int(seconds * self.sample_rate)).astype(np.float32)
        self.transcribe(1e-3 * noise)

    def warm_up_streams(self, count: int, latency: str = ACCURATE) -> None:
        """Run live rounds of every batch size that up to `count` streams pad to (`incremental.padded_size`), with
        short and long chunks, then end them together: a server builds its kernels for a full house before the
        first performer arrives, so its memory starts at its working level instead of growing as new batch sizes
        meet the math library."""
        warm = self.warm_batches.setdefault(latency, set())
        sizes = sorted({padded_size(n) for n in range(1, count + 1)} - warm)
        features = self.loaded.features
        chunks = [round(LIVE_PACKET_SECONDS * features.sample_rate)] + [features.hop_length * f for f in LIVE_WARM_UP_FRAMES]
        noise = 1e-3 * np.random.default_rng(0).standard_normal(max(chunks)).astype(np.float32)
        for size in sizes:
            streams = [self.stream(latency, keep_result=False) for _ in range(size)]
            for samples in chunks:
                advance_streams(streams, [noise[:samples]] * size)
            finish_streams(streams)  # sessions ending together: their flush has shapes of its own
            warm.add(size)

    @property
    def sample_rate(self) -> int:
        return self.loaded.features.sample_rate

    @property
    def lookahead_seconds(self) -> float:
        """Worst-case future audio needed before a frame is decided (blocks, look-ahead, CNN, STFT, decoder)."""
        return algorithmic_latency(self.loaded.features, self.window, self.loaded.decoder)

    @property
    def latencies(self) -> list[str]:
        """The named operating points of the checkpoint, fastest first ("accurate": its own window)."""
        return latency_names(self.loaded)

    def latency_seconds(self, latency: str = ACCURATE) -> float:
        """`lookahead_seconds` of a named operating point."""
        if latency == ACCURATE:
            return self.lookahead_seconds
        preset = with_latency(self.loaded, latency)
        return algorithmic_latency(preset.features, preset.window, preset.decoder)

    def stream(self, latency: str = ACCURATE, keep_result: bool = True) -> TranscriptionStream:
        """A new live transcription fed with mono float32 audio at `sample_rate`, at a named operating point
        (`latencies`; "accurate" is the checkpoint's own window, or the window this transcriber was given);
        `keep_result=False` for events only (see TranscriptionStream)."""
        if latency == ACCURATE:
            return TranscriptionStream(self.loaded, self.window, keep_result)
        variant = with_latency(self.loaded, latency)
        return TranscriptionStream(variant, variant.window, keep_result)

    def transcribe(
        self,
        source: str | Path | np.ndarray,
        progress: Callable[[float], None] | None = None,
        damaged: Callable[[str], None] | None = None,
    ) -> Transcription:
        """Transcribe a file (any format PyAV decodes) or a mono float32 array at `sample_rate`.

        `progress` is called with the seconds of audio processed so far; with `damaged` given, a file whose
        audio breaks off is transcribed up to the break and `damaged` says where (notestream.audio.iter_audio_chunks).
        """
        stream = self.stream()
        chunks = _array_chunks(source, self.sample_rate) if isinstance(source, np.ndarray) else iter_audio_chunks(
            source, self.sample_rate, CHUNK_SECONDS, damaged)
        for chunk in chunks:
            stream.push(chunk)
            if progress:
                progress(stream.audio_seconds)
        stream.finish()
        return stream.result(self.describe())

    def describe(self) -> dict:
        """Model provenance for outputs: version, look-ahead, feature parameters."""
        meta = self.loaded.metadata
        return {
            "model": meta.get("name", "notestream"),
            "model_steps": meta.get("steps"),
            "window": {"hop": self.window.hop, "lookahead": self.window.lookahead},
            "pitch_views": list(self.loaded.views.semitones),
            "compute_precision": str(self.loaded.compute_dtype).removeprefix("torch."),
            "lookahead_seconds": round(self.lookahead_seconds, 4),
            "sample_rate": self.sample_rate,
        }


def _array_chunks(audio: np.ndarray, sample_rate: int):
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    step = int(CHUNK_SECONDS * sample_rate)
    for start in range(0, max(1, audio.size), step):
        yield audio[start:start + step]
