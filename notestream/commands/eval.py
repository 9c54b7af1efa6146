"""`notestream eval PRED REF`: mir_eval note, note-with-offset(-and-velocity) and frame scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from model.evaluation import mean_scores, score_performances
from model.midi import read_midi

MIDI_SUFFIXES = (".mid", ".midi")


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="score transcriptions against reference MIDI", description=__doc__)
    p.add_argument("pred", type=Path, help="predicted MIDI file, or a folder of them")
    p.add_argument("ref", type=Path, help="reference MIDI file, or a folder matched to PRED by file name")
    p.add_argument("--json", type=Path, default=None, help="write per-file and mean scores here")
    p.set_defaults(func=run)


def pair_files(pred: Path, ref: Path) -> list[tuple[Path, Path]]:
    """Match predicted and reference MIDI files by name (stem) when both are folders."""
    if pred.is_file() and ref.is_file():
        return [(pred, ref)]
    if pred.is_dir() and ref.is_dir():
        refs = {p.stem: p for p in ref.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES}
        pairs = [(p, refs[p.stem]) for p in sorted(pred.rglob("*")) if p.suffix.lower() in MIDI_SUFFIXES and p.stem in refs]
        if not pairs:
            raise ValueError(f"no MIDI files in {pred} share a name with one in {ref}")
        return pairs
    raise ValueError(f"{pred} and {ref} must both be MIDI files or both be folders")


COLUMNS = (("note_f1", "note F1"), ("note_offset_f1", "+offset F1"), ("note_offset_velocity_f1", "+vel F1"), ("frame_f1", "frame F1"))


def format_table(rows: list[tuple[str, dict]]) -> str:
    width = max(len(name) for name, _ in rows)
    header = f"{'file':<{width}}  " + "  ".join(f"{title:>10}" for _, title in COLUMNS)
    lines = [header, "-" * len(header)]
    lines += [f"{name:<{width}}  " + "  ".join(f"{scores[key]:>10.4f}" for key, _ in COLUMNS) for name, scores in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    pairs = pair_files(args.pred, args.ref)
    per_file = {p.name: score_performances(read_midi(p), read_midi(r)) for p, r in pairs}
    mean = mean_scores(list(per_file.values()))
    rows = [(name, s.to_dict()) for name, s in per_file.items()] + [("mean", mean.to_dict())]
    print(format_table(rows))
    if args.json:
        report = {"files": {k: v.to_dict() for k, v in per_file.items()}, "mean": mean.to_dict()}
        args.json.write_text(json.dumps(report, indent=2))
    return 0
