"""`notestream data`: split ASAP by work, render the training corpus, prepare MAESTRO, write statistics."""

from __future__ import annotations

import argparse
from pathlib import Path

from model.data.corpus import RenderPlan, data_dir, render_corpus
from model.data.soundfonts import missing_soundfonts
from model.data.splits import make_splits, read_asap, write_splits

DEFAULT_ASAP = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "asap"


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="build training data (render ASAP, prepare MAESTRO, statistics)", description=__doc__)
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)

    r = sub.add_parser("render", help="render ASAP performances through piano SoundFonts into the data dir")
    r.add_argument("--asap", type=Path, default=DEFAULT_ASAP, help="ASAP folder (with metadata.csv)")
    r.add_argument("--data-dir", default=None, help="output folder (default $NOTESTREAM_DATA or ./data)")
    r.add_argument("--workers", type=int, default=2, help="render processes")
    r.add_argument("--splits", default="train,validation,benchmark", help="comma-separated splits to render")
    r.add_argument("--segment-seconds", type=float, default=RenderPlan.segment_seconds)
    r.add_argument("--segments-per-performance", type=int, default=RenderPlan.train_segments_per_performance)
    r.add_argument("--no-detune", action="store_true", help="switch off the +/-20 cent render detuning")
    r.set_defaults(func=run_render)

    s = sub.add_parser("splits", help="(re)write model/splits/*.txt from ASAP's works (seeded, by work)")
    s.add_argument("--asap", type=Path, default=DEFAULT_ASAP)
    s.add_argument("--seed", type=int, default=2023)
    s.set_defaults(func=run_splits)

    for module in ("notestream.commands.data_extra",):
        try:
            __import__(module, fromlist=["register"]).register(sub)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def run_render(args: argparse.Namespace) -> int:
    missing = missing_soundfonts()
    if missing:
        raise ValueError(f"SoundFonts missing: {', '.join(missing)} (run `make system-deps`)")
    plan = RenderPlan(segment_seconds=args.segment_seconds, train_segments_per_performance=args.segments_per_performance,
                      detune_cents=0.0 if args.no_detune else RenderPlan.detune_cents)
    out = data_dir(args.data_dir) / "rendered"
    counts = render_corpus(args.asap, out, plan, args.workers, tuple(args.splits.split(",")))
    print(f"rendered corpus in {out}: " + ", ".join(f"{k} {v} segments" for k, v in counts.items()))
    return 0


def run_splits(args: argparse.Namespace) -> int:
    splits = make_splits([p.work for p in read_asap(args.asap)], args.seed)
    write_splits(splits)
    print(", ".join(f"{k}: {len(v)} works" for k, v in splits.items()))
    return 0
