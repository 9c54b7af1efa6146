"""`notestream eval PRED REF`: mir_eval note, note-with-offset(-and-velocity) and frame scores."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from notestream.midi import read_midi
from notestream.model.evaluation import mean_scores, performance_metrics

MIDI_SUFFIXES = (".mid", ".midi")


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="score transcriptions against reference MIDI", description=__doc__)
    p.add_argument("pred", type=Path, help="predicted MIDI file, or a folder of them")
    p.add_argument("ref", type=Path, help="reference MIDI file, or a folder matched to PRED by file name")
    p.add_argument("--json", type=Path, default=None, help="write per-file and mean scores here")
    p.set_defaults(func=run)


def pair_files(pred: Path, ref: Path) -> list[tuple[Path, Path]]:
    """Match predicted and reference MIDI files by name (stem) when both are folders.

    Every prediction needs a reference; references without a prediction are left out, so a folder of
    transcriptions of one split can be scored against a folder holding the whole data set.
    """
    for role, path in (("PRED", pred), ("REF", ref)):
        if not path.exists():
            raise ValueError(f"{role} {path}: no such file or folder")
    if pred.is_file() and ref.is_file():
        return [(pred, ref)]
    if pred.is_dir() and ref.is_dir():
        refs = {p.stem: p for p in _midi_files(ref)}
        preds = _midi_files(pred)
        orphans = [p.name for p in preds if p.stem not in refs]
        if orphans:
            raise ValueError(f"{len(orphans)} file(s) in {pred} have no reference of the same name in {ref}: "
                             + ", ".join(orphans[:5]))
        if not preds:
            raise ValueError(f"no MIDI files (.mid, .midi) in {pred}")
        return [(p, refs[p.stem]) for p in preds]
    raise ValueError(f"{pred} and {ref} must both be MIDI files or both be folders")


def _midi_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())


COLUMNS = (("note_f1", "note F1"), ("note_offset_f1", "+offset F1"), ("note_offset_velocity_f1", "+vel F1"), ("frame_f1", "frame F1"))


def format_table(rows: list[tuple[str, dict]]) -> str:
    width = max(len(name) for name, _ in rows)
    header = f"{'file':<{width}}  " + "  ".join(f"{title:>10}" for _, title in COLUMNS)
    lines = [header, "-" * len(header)]
    lines += [f"{name:<{width}}  " + "  ".join(f"{scores[key]:>10.4f}" for key, _ in COLUMNS) for name, scores in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    pairs = pair_files(args.pred, args.ref)
    names = [str(p.relative_to(args.pred)) if args.pred.is_dir() else p.name for p, _ in pairs]
    per_file = {name: performance_metrics(read_midi(p), read_midi(r)) for name, (p, r) in zip(names, pairs, strict=True)}
    mean = mean_scores(list(per_file.values()))
    rows = [(name, s.to_dict()) for name, s in per_file.items()] + [("mean", mean.to_dict())]
    print(format_table(rows))
    if args.json:
        report = {"files": {k: v.to_dict() for k, v in per_file.items()}, "mean": mean.to_dict()}
        args.json.write_text(json.dumps(report, indent=2))
    return 0
