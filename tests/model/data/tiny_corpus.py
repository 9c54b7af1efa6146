"""A tiny rendered corpus in the on-disk segment layout, for training and statistics tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from notestream.notes import Note, PedalSpan, Performance
from tests.conftest import render_piano


def write_tiny_corpus(root: Path, seconds: float = 2.0) -> Path:
    """train: 3 segments, validation: 1, benchmark: 1 — chords and runs over a few keys."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 3), ("validation", 1), ("benchmark", 1)):
        (root / split).mkdir(parents=True, exist_ok=True)
        for k in range(count):
            notes = []
            for i in range(8):
                onset = 0.1 + i * 0.22
                base = int(rng.integers(48, 72))
                notes += [Note(onset, onset + 0.3, base, 90), Note(onset, onset + 0.3, base + 4, 70)]
            perf = Performance(notes, [PedalSpan(1.0, 1.6)])
            audio = render_piano(perf)[: int(seconds * 16000)]
            audio = np.pad(audio, (0, int(seconds * 16000) - audio.size))
            arr = np.array([[n.onset, n.offset, n.pitch, n.velocity] for n in notes])
            np.savez(root / split / f"seg{k}.npz", audio=(audio * 32767).astype(np.int16), notes=arr, pedals=np.array([[1.0, 1.6]]))
    return root
