"""Per-split statistics of the labels and the label graph the GCN uses, as CSV and PNG."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..features import FeatureConfig
from ..gcn import cooccurrence_counts, normalized_adjacency
from notestream.notes import MIN_PITCH, N_KEYS, extend_with_pedal, note_name
from ..pianoroll import piano_roll
from .corpus import iter_segments


def split_statistics(root: Path, split: str, features: FeatureConfig) -> dict:
    """Note counts per key, durations, velocities, polyphony and frame co-occurrence of one split."""
    keys = np.zeros(N_KEYS, dtype=np.int64)
    durations, velocities, polyphony, rolls = [], [], [], []
    for seg in iter_segments(root, split, features.sample_rate):
        for n in seg.notes:
            if n.onset >= 0:
                keys[n.pitch - MIN_PITCH] += 1
                durations.append(n.offset - n.onset)
                velocities.append(n.velocity)
        roll = piano_roll(extend_with_pedal(seg.notes, seg.pedals), features.n_frames(seg.audio.size), features.frame_rate)
        polyphony.append(roll.sum(axis=1))
        rolls.append(roll)
    return {"keys": keys, "durations": np.array(durations), "velocities": np.array(velocities, dtype=np.int64),
            "polyphony": np.concatenate(polyphony) if polyphony else np.zeros(0, dtype=np.int64),
            "cooccurrence": cooccurrence_counts(rolls), "segments": len(rolls)}


def _write_matrix(path: Path, matrix: np.ndarray) -> None:
    names = [note_name(MIN_PITCH + i) for i in range(N_KEYS)]
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["key", *names])
        for name, row in zip(names, matrix, strict=True):
            w.writerow([name, *(f"{v:.6g}" for v in row)])


def write_statistics(root: Path, out: Path, features: FeatureConfig, tau: float, splits: tuple[str, ...]) -> dict[str, dict]:
    """Write summary.csv, per-split key/velocity CSVs and plots, and the training label graph."""
    out.mkdir(parents=True, exist_ok=True)
    stats = {s: split_statistics(root, s, features) for s in splits if (root / s).is_dir()}
    with (out / "summary.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["split", "segments", "notes", "mean_duration_s", "median_velocity", "mean_polyphony", "max_polyphony"])
        for split, st in stats.items():
            w.writerow([split, st["segments"], int(st["keys"].sum()), f"{st['durations'].mean():.3f}" if st["durations"].size else "",
                        int(np.median(st["velocities"])) if st["velocities"].size else "",
                        f"{st['polyphony'].mean():.2f}", int(st["polyphony"].max(initial=0))])
    for split, st in stats.items():
        with (out / f"{split}_keys.csv").open("w", newline="") as f:
            csv.writer(f).writerows([["key", "pitch", "notes"]] + [[note_name(MIN_PITCH + i), MIN_PITCH + i, int(c)] for i, c in enumerate(st["keys"])])
        np.savetxt(out / f"{split}_velocity_histogram.csv", np.bincount(st["velocities"], minlength=128)[None], fmt="%d", delimiter=",")
        _plot_split(out, split, st)
    if "train" in stats:
        counts = stats["train"]["cooccurrence"]
        adjacency = normalized_adjacency(counts, tau)
        _write_matrix(out / "cooccurrence.csv", counts)
        _write_matrix(out / "adjacency.csv", adjacency)
        _plot_graph(out, counts, adjacency, tau)
    return stats


def _plot_split(out: Path, split: str, st: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 3.5))
    axes[0].bar(np.arange(MIN_PITCH, MIN_PITCH + N_KEYS), st["keys"], width=1.0)
    axes[0].set(title=f"{split}: notes per key", xlabel="MIDI pitch")
    axes[1].hist(st["velocities"], bins=np.arange(0, 129, 4))
    axes[1].set(title="velocity", xlabel="MIDI velocity")
    axes[2].hist(st["polyphony"], bins=np.arange(0, st["polyphony"].max(initial=1) + 2) - 0.5)
    axes[2].set(title="polyphony (sounding keys per frame)", xlabel="keys")
    fig.tight_layout()
    fig.savefig(out / f"{split}_histograms.png", dpi=80)
    plt.close(fig)


def _plot_graph(out: Path, counts: np.ndarray, adjacency: np.ndarray, tau: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    conditional = counts / np.maximum(np.diag(counts)[:, None], 1.0)
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    im = axes[0].imshow(conditional, origin="lower", cmap="magma", vmin=0, vmax=1)
    axes[0].set(title="P(j | i) from training frames", xlabel="key j", ylabel="key i")
    fig.colorbar(im, ax=axes[0])
    im = axes[1].imshow(adjacency, origin="lower", cmap="viridis")
    axes[1].set(title=f"normalised adjacency (tau={tau})", xlabel="key", ylabel="key")
    fig.colorbar(im, ax=axes[1])
    degree = (adjacency > 0).sum(axis=1) - 1
    axes[2].bar(np.arange(MIN_PITCH, MIN_PITCH + N_KEYS), degree, width=1.0)
    axes[2].set(title="graph degree (edges per key)", xlabel="MIDI pitch")
    fig.tight_layout()
    fig.savefig(out / "label_graph.png", dpi=80)
    plt.close(fig)
