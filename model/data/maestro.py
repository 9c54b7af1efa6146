"""Prepare the real MAESTRO v3 dataset in the same segment layout as the rendered corpus.

`maestro-v3.0.0.csv` gives each recording's split; train/validation keep their names and MAESTRO's
test split becomes our `benchmark`. Recordings are decoded chunk by chunk (never whole in memory)
and cut into fixed-length segments with labels from the same note code as everything else.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from notestream.audio import iter_audio_chunks
from notestream.midi import read_midi
from .corpus import crop_performance

SPLIT_NAMES = {"train": "train", "validation": "validation", "test": "benchmark"}


@dataclass(frozen=True)
class MaestroRecording:
    split: str
    audio: Path
    midi: Path
    title: str

    @property
    def id(self) -> str:
        return self.audio.stem.replace("/", "__")


def read_maestro(root: Path) -> list[MaestroRecording]:
    """Rows of the MAESTRO csv whose audio and MIDI files exist; a clear error if the csv is missing."""
    csvs = sorted(root.glob("maestro-v*.csv"))
    if not csvs:
        raise FileNotFoundError(f"{root}: no maestro-v*.csv; point at the extracted maestro-v3.0.0 folder")
    out = []
    with csvs[-1].open(newline="") as f:
        for row in csv.DictReader(f):
            split = SPLIT_NAMES.get(row["split"])
            audio, midi = root / row["audio_filename"], root / row["midi_filename"]
            if split and audio.is_file() and midi.is_file():
                out.append(MaestroRecording(split, audio, midi, f"{row['canonical_composer']}: {row['canonical_title']}"))
    if not out:
        raise FileNotFoundError(f"{csvs[-1]}: no rows with both audio and MIDI present under {root}")
    return out


def _segments(path: Path, sample_rate: int, seconds: float) -> Iterator[np.ndarray]:
    """Fixed-length pieces of a recording (the last one shorter)."""
    size = int(seconds * sample_rate)
    pending = np.zeros(0, dtype=np.float32)
    for chunk in iter_audio_chunks(path, sample_rate, chunk_seconds=seconds):
        pending = np.concatenate([pending, chunk])
        while pending.size >= size:
            yield pending[:size]
            pending = pending[size:]
    if pending.size:
        yield pending


def prepare_maestro(root: Path, out_dir: Path, sample_rate: int = 16000, segment_seconds: float = 30.0) -> dict[str, int]:
    """Write `<out>/<split>/<id>__<k>.npz` segments and a manifest per split; returns segment counts."""
    counts: dict[str, int] = {}
    manifests: dict[str, list[dict]] = {}
    for rec in tqdm(read_maestro(root), desc="maestro", unit="rec"):
        perf = read_midi(rec.midi)
        folder = out_dir / rec.split
        folder.mkdir(parents=True, exist_ok=True)
        for k, audio in enumerate(_segments(rec.audio, sample_rate, segment_seconds)):
            start = k * segment_seconds
            seg = crop_performance(perf, start, audio.size / sample_rate)
            notes = np.array([[n.onset, n.offset, n.pitch, n.velocity] for n in seg.notes], dtype=np.float64).reshape(-1, 4)
            pedals = np.array([[p.onset, p.offset] for p in seg.pedals], dtype=np.float64).reshape(-1, 2)
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
            seg_id = f"{rec.id}__{k}"
            np.savez(folder / f"{seg_id}.npz", audio=pcm, notes=notes, pedals=pedals)
            manifests.setdefault(rec.split, []).append({"segment_id": seg_id, "audio": str(rec.audio.relative_to(root)), "start_seconds": start, "title": rec.title})
            counts[rec.split] = counts.get(rec.split, 0) + 1
    for split, segs in manifests.items():
        (out_dir / split / "manifest.json").write_text(json.dumps({"source": "maestro", "segments": segs}, indent=1))
    return counts
