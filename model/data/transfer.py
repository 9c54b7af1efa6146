"""Lossless packing of a rendered corpus for another machine (a GPU box reached only through size-capped copies).

Each segment's int16 audio goes as FLAC (about 60 % of the npz), its labels as a small npz beside it, in
chunk folders of bounded size (`c000/<split>/<id>.flac` + `<id>.labels.npz`). Unpacking rebuilds npz files
identical array for array, so training there sees exactly the audio trained on here: a lossy codec
(Opus) once taught the model the codec and cost clean-audio accuracy.
"""

from __future__ import annotations

import multiprocessing
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from .corpus import save_segment

AUDIO_KEY = "audio"
LABELS_SUFFIX = ".labels.npz"


@dataclass(frozen=True)
class SplitSelection:
    """A split and how many of its segments (in the corpus's stable order) to take; None takes all."""

    split: str
    limit: int | None = None

    @classmethod
    def parse(cls, text: str) -> SplitSelection:
        """`train` or `validation:16`."""
        name, _, limit = text.partition(":")
        if not name or (limit and (not limit.isdigit() or int(limit) == 0)):
            raise ValueError(f"{text!r}: expected SPLIT or SPLIT:N with N > 0")
        return cls(name, int(limit) if limit else None)


def encode_flac(audio: np.ndarray, path: Path, sample_rate: int) -> None:
    """Write mono int16 samples as FLAC (lossless)."""
    if audio.dtype != np.int16 or audio.ndim != 1:
        raise ValueError(f"{path.name}: expected mono int16 audio, got {audio.dtype} {audio.shape}")
    with av.open(str(path), "w", format="flac") as out:
        stream = out.add_stream("flac", rate=sample_rate, layout="mono")
        stream.format = "s16"
        frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = sample_rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)


def decode_flac(path: Path, sample_rate: int) -> np.ndarray:
    """The int16 samples of a FLAC written by `encode_flac`; refuses another rate or layout."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        if stream.rate != sample_rate or stream.channels != 1:
            raise ValueError(f"{path}: {stream.rate} Hz, {stream.channels} channels; expected {sample_rate} Hz mono")
        blocks = [frame.to_ndarray().reshape(-1) for frame in container.decode(stream)]
    return np.concatenate(blocks).astype(np.int16) if blocks else np.zeros(0, np.int16)


def pack_segment(source: Path, folder: Path, sample_rate: int) -> int:
    """One segment npz -> FLAC + labels npz in `folder`; returns the bytes written."""
    folder.mkdir(parents=True, exist_ok=True)
    with np.load(source) as z:
        if AUDIO_KEY not in z.files:
            raise ValueError(f"{source}: no '{AUDIO_KEY}' array")
        labels = {k: z[k] for k in z.files if k != AUDIO_KEY}
        audio_path = folder / f"{source.stem}.flac"
        encode_flac(z[AUDIO_KEY], audio_path, sample_rate)
    labels_path = folder / f"{source.stem}{LABELS_SUFFIX}"
    np.savez(labels_path, **labels)
    return audio_path.stat().st_size + labels_path.stat().st_size


def unpack_segment(audio_path: Path, root: Path, sample_rate: int) -> Path:
    """FLAC + labels npz (in `<chunk>/<split>/`) -> `root/<split>/<id>.npz`, written atomically."""
    labels_path = audio_path.with_name(audio_path.stem + LABELS_SUFFIX)
    if not labels_path.is_file():
        raise FileNotFoundError(f"{labels_path}: the labels of {audio_path.name} are missing")
    audio = decode_flac(audio_path, sample_rate)
    with np.load(labels_path) as z:
        arrays = {AUDIO_KEY: audio, **{k: z[k] for k in z.files}}
    out = root / audio_path.parent.name / f"{audio_path.stem}.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_segment(out, **arrays)
    return out


def selected_segments(root: Path, selections: Iterable[SplitSelection]) -> list[tuple[str, Path]]:
    """(split, npz path) pairs, each split in the stable order training and validation read it."""
    chosen: list[tuple[str, Path]] = []
    for sel in selections:
        folder = root / sel.split
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: no such split")
        paths = [p for p in sorted(folder.glob("*.npz")) if not p.name.endswith(".tmp.npz")]
        chosen += [(sel.split, p) for p in paths[: sel.limit]]
    return chosen


def _pack_job(job: tuple[str, Path, Path, int]) -> tuple[str, str, int]:
    split, source, stage, sample_rate = job
    return split, source.stem, pack_segment(source, stage / split, sample_rate)


def pack_corpus(root: Path, selections: Iterable[SplitSelection], out: Path, chunk_bytes: int,
                sample_rate: int, workers: int = 2) -> list[Path]:
    """Encode the selected segments, then group them into chunk folders of at most `chunk_bytes` each."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out}: not empty; unpacking would take its old chunks along, so pack into a new folder")
    segments = selected_segments(root, selections)
    if not segments:
        raise ValueError("nothing to pack")
    stage = out / "stage"
    jobs = [(split, path, stage, sample_rate) for split, path in segments]
    with _pool(workers) as pool:
        packed = pool.map(_pack_job, jobs, chunksize=8)
    chunks: list[Path] = []
    used = chunk_bytes
    for split, stem, size in packed:
        if used + size > chunk_bytes:
            chunks.append(out / f"c{len(chunks):03d}")
            used = 0
        target = chunks[-1] / split
        target.mkdir(parents=True, exist_ok=True)
        for name in (f"{stem}.flac", f"{stem}{LABELS_SUFFIX}"):
            (stage / split / name).replace(target / name)
        used += size
    shutil.rmtree(stage)
    return chunks


def _unpack_job(job: tuple[Path, Path, int]) -> Path:
    return unpack_segment(*job)


def unpack_corpus(source: Path, root: Path, sample_rate: int, workers: int = 2) -> dict[str, int]:
    """Every `<chunk>/<split>/*.flac` under `source` back into `root`; returns segments per split."""
    audio_files = sorted(source.glob("*/*/*.flac"))
    if not audio_files:
        raise FileNotFoundError(f"{source}: no packed segments (expected <chunk>/<split>/<id>.flac)")
    with _pool(workers) as pool:
        written = pool.map(_unpack_job, [(p, root, sample_rate) for p in audio_files], chunksize=4)
    counts: dict[str, int] = {}
    for path in written:
        counts[path.parent.name] = counts.get(path.parent.name, 0) + 1
    return counts


def _pool(workers: int):
    """Worker processes started fresh (spawn): a fork of a process that holds threads (torch, a JACK client) can
    deadlock in the child on a lock some thread held at the fork."""
    return multiprocessing.get_context("spawn").Pool(max(1, workers))
