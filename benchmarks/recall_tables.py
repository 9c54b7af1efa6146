"""Markdown tables and the per-key confusion plot of `notestream.model.breakdown` results, for the accuracy and
robustness benches: one row per system (or condition and system), pooled recall per bin."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from notestream.model.breakdown import (
    LOWEST_KEY,
    N_KEYS,
    RELATION_NAMES,
    TARGET_GROUPS,
    VELOCITY_BANDS,
    NoteBreakdown,
)

GROUPS = (("velocity", "Recall by reference velocity"), ("chord_size", "Recall by chord size (notes starting within "
                                                                        "30 ms of each other)"),
          ("register", "Recall by register (octave, named by its lowest key: A0 = MIDI 21–23, C1 = 24–35, …)"))
RELATION_COLOURS = {"unison": "tab:purple", "octave": "tab:red", "twelfth": "tab:orange", "fifth": "tab:olive",
                    "semitone": "tab:cyan", "none": "tab:gray"}


def _cell(breakdown: NoteBreakdown, group: str, bins: tuple[str, ...]) -> str:
    recall, _ = breakdown.recall(group, bins)
    return "—" if recall is None else f"{recall:.3f}"


def _group_table(rows: list[tuple[str, NoteBreakdown]], group: str, title: str) -> list[str]:
    first = rows[0][1]
    bins = [b for b, (_, n) in getattr(first, group).items() if any(getattr(r, group)[b][1] for _, r in rows)]
    header = [f"{b} (n={getattr(first, group)[b][1]})" for b in bins]
    lines = [f"{title}:", "", "| | " + " | ".join(header) + " |", "|---" * (len(bins) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(_cell(b, group, (name,)) for name in bins) + " |" for label, b in rows]
    return lines + [""]


def _targets_table(rows: list[tuple[str, NoteBreakdown]]) -> list[str]:
    first = rows[0][1]
    header = [f"{label} (n={first.recall(group, bins)[1]})" for label, group, bins in TARGET_GROUPS]
    lines = ["The issue's recall targets (≥ 0.90 each) and all extra notes by what they are relative to a reference "
             "note sounding then:", "",
             "| | " + " | ".join(header) + " | extra: " + " / ".join(RELATION_NAMES) + " |", "|---" * 5 + "|"]
    for label, b in rows:
        extras = " / ".join(str(sum(b.extra_relation_by_key[name])) for name in RELATION_NAMES)
        lines.append(f"| {label} | " + " | ".join(_cell(b, group, bins) for _, group, bins in TARGET_GROUPS)
                     + f" | {extras} |")
    return lines


def _velocity_cell(breakdown: NoteBreakdown, band: str) -> str:
    means = breakdown.mean_velocities(band)
    share, _ = breakdown.velocity_right_share(band)
    return "—" if means is None else f"{means[0]:.0f} ({means[1]:.0f}) · " + ("—" if share is None else f"{share:.2f}")


def _velocity_table(rows: list[tuple[str, NoteBreakdown]]) -> list[str]:
    """Per reference velocity band, whether a system's velocities mean something; rows whose breakdown predates
    these counts are left out."""
    rows = [(label, b) for label, b in rows if any(total for _, total in b.velocity_right.values())]
    if not rows:
        return []
    bands = [name for name, _, _ in VELOCITY_BANDS if any(b.velocity[name][1] for _, b in rows)]
    lines = ["Velocity by reference band: the mean output velocity of the notes found (their reference mean) · the "
             "share of the notes matched with their offsets whose velocity mir_eval counts right (after its linear "
             "fit per segment, within 10 % of the segment's range):", "",
             "| | " + " | ".join(bands) + " |", "|---" * (len(bands) + 1) + "|"]
    lines += [f"| {label} | " + " | ".join(_velocity_cell(b, band) for band in bands) + " |" for label, b in rows]
    return lines + [""]


def format_recall_tables(rows: list[tuple[str, dict]]) -> str:
    """Recall by velocity, chord size and register, the output velocity by reference band, then the targets and
    extra notes; `rows` are (row label, breakdown as JSON), all of the same reference notes. Empty when no row
    has a breakdown."""
    rows = [(label, NoteBreakdown.from_dict(b)) for label, b in rows if b]
    if not rows:
        return ""
    lines = ["Recall breakdowns: reference notes found (mir_eval matching, onset 50 ms), pooled over all segments; "
             "n = reference notes in the bin.", ""]
    for group, title in GROUPS:
        lines += _group_table(rows, group, title)
    return "\n".join(lines + _velocity_table(rows) + _targets_table(rows))


def plot_key_confusion(panels: list[tuple[str, dict]], path: Path) -> None:
    """Per key, missed reference notes (down) and extra notes (up, stacked by their relation to a sounding
    reference note), one panel per (title, breakdown as JSON)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = np.arange(LOWEST_KEY, LOWEST_KEY + N_KEYS)
    fig, axes = plt.subplots(len(panels), 1, figsize=(12, 3.2 * len(panels)), dpi=100, squeeze=False)
    for ax, (title, data) in zip(axes[:, 0], panels, strict=True):
        breakdown = NoteBreakdown.from_dict(data)
        ax.bar(keys, -np.array(breakdown.missed_by_key), color="black", label="missed")
        bottom = np.zeros(N_KEYS)
        for name in RELATION_NAMES:
            counts = np.array(breakdown.extra_relation_by_key[name])
            ax.bar(keys, counts, bottom=bottom, color=RELATION_COLOURS[name], label=f"extra: {name}")
            bottom += counts
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_xticks([k for k in keys if k % 12 == 0], [f"C{k // 12 - 1}" for k in keys if k % 12 == 0])
        ax.set_xlim(LOWEST_KEY - 1, LOWEST_KEY + N_KEYS)
        ax.set_title(f"{title}: {sum(breakdown.missed_by_key)} missed of {sum(breakdown.reference_by_key)}, "
                     f"{sum(breakdown.extra_by_key)} extra")
        ax.set_ylabel("notes (missed below 0)")
        ax.grid(axis="y", alpha=0.3)
    axes[0, 0].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    axes[-1, 0].set_xlabel("key")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
