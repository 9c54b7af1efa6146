"""Rendered ASAP excerpts for `bench score --from-audio`: each segment `notestream data render` wrote (int16
audio, the notes it plays, and a `meta` JSON naming the ASAP performance MIDI and the second of it where
the segment starts), tied back to its ASAP metadata row so the score can be judged on that time span.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from notestream.model.data.corpus import Segment
from notestream.model.validation import reference_performance
from notestream.notes import Performance
from notestream_bench.accuracy_bench import load_benchmark_segments


@dataclass(frozen=True)
class RenderedExcerpt:
    """One rendered segment of an ASAP performance: `start` seconds into it, `duration` seconds long."""

    segment: Segment
    row: dict  # the performance's row of ASAP's metadata.csv
    start: float
    duration: float

    @property
    def window(self) -> tuple[float, float]:
        """The excerpt's span in performance time (seconds)."""
        return self.start, self.start + self.duration

    @property
    def played(self) -> Performance:
        """The notes the excerpt plays that start inside it (what a transcription of it can find)."""
        return reference_performance(self.segment)

    @property
    def audio(self) -> np.ndarray:
        """Mono float32 audio in [-1, 1) at the segment's sample rate."""
        return self.segment.audio.astype(np.float32) / 32768.0


def segment_meta(path: Path) -> dict:
    """The `meta` JSON a rendered segment carries; a clear error when it has none."""
    with np.load(path) as z:
        if "meta" not in z.files:
            raise ValueError(f"{path}: no 'meta' record; render it again with `notestream data render`")
        return json.loads(str(z["meta"]))


def asap_row(midi: str, rows: list[dict]) -> dict | None:
    """The metadata row whose performance MIDI the segment was rendered from (matched on the path tail)."""
    tail = Path(midi).as_posix()
    return next((r for r in rows if tail.endswith("/" + r["midi_performance"])), None)


def rendered_excerpts(folder: Path, asap_root: Path, limit: int | None) -> list[RenderedExcerpt]:
    """The ASAP segments of a rendered split folder (e.g. <data>/rendered/validation), round-robin across
    works so a `limit` still spans pieces; segments of other sources (music21 scores) are left out after the
    limit is taken (evaluation splits hold ASAP segments only)."""
    folder = Path(folder)
    with open(Path(asap_root) / "metadata.csv") as f:
        rows = list(csv.DictReader(f))
    excerpts = []
    for segment in load_benchmark_segments(folder.parent, limit, split=folder.name):
        meta = segment_meta(folder / f"{segment.segment_id}.npz")
        row = asap_row(meta["midi"], rows) if meta.get("source", "asap") == "asap" else None
        if row is None:
            continue
        excerpts.append(RenderedExcerpt(segment, row, float(meta["start_seconds"]), float(meta["duration"])))
    if not excerpts:
        raise ValueError(f"{folder}: no rendered segments of ASAP performances listed in {asap_root}/metadata.csv")
    return excerpts
