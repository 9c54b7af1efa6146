"""Train / validation / benchmark splits of ASAP by work (the `folder` column), never by performance."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

SPLITS_DIR = Path(__file__).resolve().parent.parent / "splits"


def default_asap_root() -> Path:
    """$NOTESTREAM_ASAP, else the ASAP folder shared beside the checkout (../shared/data/asap)."""
    import os

    explicit = os.environ.get("NOTESTREAM_ASAP")
    return Path(explicit) if explicit else Path(__file__).resolve().parents[3] / "shared" / "data" / "asap"
SPLIT_NAMES = ("train", "validation", "benchmark")


@dataclass(frozen=True)
class AsapPerformance:
    """One ASAP performance: its MIDI path and the work (folder) it belongs to."""

    work: str
    midi: Path
    annotations: Path

    @property
    def id(self) -> str:
        return f"{self.work}/{self.midi.stem}".replace("/", "__")


def read_asap(asap_root: Path) -> list[AsapPerformance]:
    """All performances listed in ASAP's metadata.csv whose MIDI file is present."""
    meta = asap_root / "metadata.csv"
    if not meta.is_file():
        raise FileNotFoundError(f"{meta}: not found; is {asap_root} the ASAP folder?")
    out = []
    with meta.open(newline="") as f:
        for row in csv.DictReader(f):
            midi = asap_root / row["midi_performance"]
            if midi.is_file():
                out.append(AsapPerformance(row["folder"], midi, asap_root / row["performance_annotations"]))
    return out


def make_splits(works: list[str], seed: int = 2023, fractions: tuple[float, float] = (0.1, 0.1)) -> dict[str, list[str]]:
    """Shuffle works with a fixed seed; the first fractions go to validation and benchmark."""
    shuffled = sorted(set(works))
    random.Random(seed).shuffle(shuffled)
    n_val = max(1, round(len(shuffled) * fractions[0]))
    n_bench = max(1, round(len(shuffled) * fractions[1]))
    return {
        "validation": sorted(shuffled[:n_val]),
        "benchmark": sorted(shuffled[n_val:n_val + n_bench]),
        "train": sorted(shuffled[n_val + n_bench:]),
    }


def write_splits(splits: dict[str, list[str]], directory: Path = SPLITS_DIR) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, works in splits.items():
        (directory / f"{name}.txt").write_text("".join(f"{w}\n" for w in works))


def read_splits(directory: Path = SPLITS_DIR) -> dict[str, list[str]]:
    """The committed split lists (one ASAP folder per line)."""
    out = {}
    for name in SPLIT_NAMES:
        path = directory / f"{name}.txt"
        if not path.is_file():
            raise FileNotFoundError(f"{path}: split list missing; run `notestream data splits`")
        out[name] = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    return out
