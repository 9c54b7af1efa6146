"""What one archive worker does with one file (or a batch of files): the same code in every executor."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notestream.audio import iter_audio_chunks
from notestream.exporters import export_transcription, output_paths
from notestream.model.inference import Transcription, advance_streams
from notestream.model.transcriber import CHUNK_SECONDS, Transcriber

if TYPE_CHECKING:
    from notestream.score.meter import RhythmHint


@dataclass(frozen=True)
class ArchiveItem:
    """One audio file to transcribe and the stem its outputs are written to (`replace`: even if they exist;
    `hint`: the tempo and/or time signature its sheet music is written in)."""

    audio: Path
    stem: Path
    replace: bool = False
    hint: RhythmHint | None = None


@dataclass(frozen=True)
class ModelSpec:
    """How a worker loads its model (sent to worker processes and Ray nodes instead of the model itself)."""

    checkpoint: Path | None = None
    device: str = "auto"
    views: tuple[int, ...] | None = None
    precision: str = "auto"
    threads: int | None = None  # torch threads in a worker process (None: torch's default)
    onset_threshold: float | None = None  # None: the checkpoint's calibrated one


@dataclass(frozen=True)
class FileOutcome:
    """What became of one file: its audio seconds and the worker's seconds, or the reason it failed."""

    audio: Path
    duration: float = 0.0
    seconds: float = 0.0
    written: tuple[Path, ...] = ()
    error: str | None = None
    worker: str = ""


def outputs_complete(stem: Path, formats: list[str]) -> bool:
    """True when every format's file for `stem` exists (exports appear all together, so this means done)."""
    return all(path.exists() for path in output_paths(stem, formats))


_loaded: dict[ModelSpec, Transcriber] = {}


def worker_transcriber(spec: ModelSpec) -> Transcriber:
    """This process's model for `spec`, loaded on first use and kept: one load per worker, not per file."""
    if spec not in _loaded:
        if spec.threads:
            import torch

            torch.set_num_threads(spec.threads)
        _loaded.clear()
        _loaded[spec] = Transcriber.from_checkpoint(spec.checkpoint, spec.device, views=spec.views,
                                                    precision=spec.precision, onset_threshold=spec.onset_threshold)
    return _loaded[spec]


def transcribe_items(spec: ModelSpec, formats: list[str], items: list[ArchiveItem],
                     progress: Callable[[float], None] | None = None) -> list[FileOutcome]:
    """Transcribe and export `items` with this process's model; several at once share each network pass.

    A file whose outputs are already complete (a retry after its worker died) is reported, not redone.
    `progress` is called with the audio seconds processed in this call so far.
    """
    worker = f"{os.uname().nodename}:{os.getpid()}"
    todo = [item for item in items if item.replace or not outputs_complete(item.stem, formats)]
    outcomes = {item.audio: FileOutcome(item.audio, worker=worker) for item in items if item not in todo}
    if todo:
        transcriber = worker_transcriber(spec)
        start = time.perf_counter()
        results = transcribe_together(transcriber, [item.audio for item in todo], progress)
        seconds = (time.perf_counter() - start) / len(todo)
        for item, result in zip(todo, results, strict=True):
            outcomes[item.audio] = _export(item, formats, result, seconds, worker)
    return [outcomes[item.audio] for item in items]


def _export(item: ArchiveItem, formats: list[str], result: Transcription | str, seconds: float, worker: str) -> FileOutcome:
    if isinstance(result, str):
        return FileOutcome(item.audio, error=result, worker=worker)
    timing = {"transcribe_seconds": round(seconds, 3), "speed": round(result.duration / max(seconds, 1e-9), 1)}
    try:
        written = export_transcription(result, item.stem, formats, source=str(item.audio), extra_metadata={"timing": timing},
                                       hint=item.hint)
    except (OSError, ValueError) as exc:
        return FileOutcome(item.audio, error=f"could not write its outputs ({exc})", worker=worker)
    return FileOutcome(item.audio, result.duration, seconds, tuple(written), worker=worker)


def transcribe_together(transcriber: Transcriber, sources: list[Path],
                        progress: Callable[[float], None] | None = None) -> list[Transcription | str]:
    """Transcribe several files in lock-step, one batched network pass per round of chunks (a GPU's way to
    stay busy); each file's result equals its own `transcribe`. A file that fails gives its error message."""
    streams = [transcriber.stream() for _ in sources]
    chunks = [iter_audio_chunks(source, transcriber.sample_rate, CHUNK_SECONDS) for source in sources]
    results: list[Transcription | str | None] = [None] * len(sources)
    while running := [i for i, result in enumerate(results) if result is None]:
        batch, audios = [], []
        for i in running:
            try:
                audios.append(next(chunks[i]))
                batch.append(i)
            except StopIteration:
                streams[i].finish()
                results[i] = streams[i].result(transcriber.describe())
            except ValueError as exc:  # AudioDecodeError and a file that turns bad half-way
                results[i] = str(exc)
        if batch:
            advance_streams([streams[i] for i in batch], audios)
        if progress:
            progress(sum(stream.audio_seconds for stream in streams))
    return results
