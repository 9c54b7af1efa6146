"""A tiny rendered benchmark split: two short segments in the layout `notestream data render` writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from notestream.model.data.render import PianoRenderer
from notestream.model.data.soundfonts import BENCHMARK_PRESETS
from notestream.notes import Note, PedalSpan, Performance

SEGMENT_SECONDS = 2.0
RATE = 16000

# Segment ids mimic the real ones (<performance id>__<k>); the first holds a note from before the cut.
TINY_SEGMENTS = {
    "Composer__Piece__PlayerA__0": Performance(
        [Note(-0.5, 0.6, 48, 70), Note(0.2, 0.7, 60, 80), Note(0.7, 1.2, 64, 90), Note(1.2, 1.8, 67, 100)],
        [PedalSpan(0.1, 1.0)]),
    "Composer__Piece__PlayerB__0": Performance(
        [Note(0.1, 0.9, 55, 60), Note(0.1, 0.9, 59, 60), Note(1.0, 1.6, 72, 110)], []),
}


def _write_segment(folder: Path, segment_id: str, perf: Performance, renderer: PianoRenderer) -> None:
    sounding = Performance([Note(max(0.0, n.onset), n.offset, n.pitch, n.velocity) for n in perf.notes], perf.pedals)
    audio = renderer.render(sounding, BENCHMARK_PRESETS[0], RATE, SEGMENT_SECONDS)
    pcm = (audio / max(1e-4, float(np.abs(audio).max())) * 0.9 * 32767).astype(np.int16)
    notes = np.array([[n.onset, n.offset, n.pitch, n.velocity] for n in perf.notes], dtype=np.float64)
    pedals = np.array([[p.onset, p.offset] for p in perf.pedals], dtype=np.float64).reshape(-1, 2)
    np.savez(folder / f"{segment_id}.npz", audio=pcm, notes=notes, pedals=pedals)


@dataclass(frozen=True)
class TinySplit:
    """Where the tiny split lives (the --data-dir) and what it holds."""

    data_dir: Path
    segment_ids: list[str]
    segment_seconds: float


@pytest.fixture(scope="session")
def tiny_split(tmp_path_factory: pytest.TempPathFactory) -> TinySplit:
    """A data folder whose rendered/benchmark/ holds the two TINY_SEGMENTS, rendered with the held-out piano."""
    root = tmp_path_factory.mktemp("bench-data")
    folder = root / "rendered" / "benchmark"
    folder.mkdir(parents=True)
    renderer = PianoRenderer()
    try:
        for segment_id, perf in TINY_SEGMENTS.items():
            _write_segment(folder, segment_id, perf, renderer)
    finally:
        renderer.close()
    return TinySplit(root, sorted(TINY_SEGMENTS), SEGMENT_SECONDS)
