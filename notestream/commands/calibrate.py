"""`notestream calibrate`: tune a checkpoint's decoder thresholds on rendered validation audio and save
them into it (the weights stay as they are); optionally for a new streaming window or set of views."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

from notestream.model.arguments import view_shifts
from notestream.model.calibration import calibrate_checkpoint
from notestream.model.data.corpus import rendered_dir


def register(subparsers) -> None:
    p = subparsers.add_parser("calibrate", help="tune a checkpoint's decoder on validation audio", description=__doc__,
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("checkpoint", type=Path, help="the checkpoint to tune (rewritten in place)")
    add_calibration_arguments(p)
    p.set_defaults(func=lambda args: calibrate(args.checkpoint, args))


def add_calibration_arguments(p: argparse.ArgumentParser, in_train: bool = False) -> None:
    """The options of a calibration; `train`'s parser (in_train) already has the data, segment and window ones."""
    if not in_train:
        p.add_argument("--data-dir", default=None, help="prepared data (default $NOTESTREAM_DATA/rendered or ./data/rendered)")
        p.add_argument("--validation-segments", type=int, default=40, help="segments from each split")
        p.add_argument("--hop", type=int, default=None, help="re-window: streaming block size in frames")
        p.add_argument("--lookahead", type=int, default=None, help="re-window: look-ahead frames")
    p.add_argument("--views", type=view_shifts, default=None, metavar="SHIFTS",
                   help="set the checkpoint's pitch-shifted views, e.g. -1,0,1 (activations of the audio heard a "
                        "semitone down, as is and a semitone up, averaged; each view costs a network pass)")
    p.add_argument("--alternative-views", type=view_shifts, default=None, metavar="SHIFTS",
                   help="(re)make the decoder kept for this other view set (served with --views), e.g. after new "
                        "weights, leaving the checkpoint's own views and decoder as they are")
    p.add_argument("--latency", default="accurate", metavar="NAME",
                   help="make or remake the named operating point (e.g. low) with --hop/--lookahead/--views, leaving "
                        "the checkpoint's own ('accurate') as it is; served with `serve --latency NAME`")
    p.add_argument("--onset-rule", choices=("peak", "rise"), default=None,
                   help="where a note starts: the onset activation's peak (decided a frame later) or the first frame "
                        "it is strong enough (decided at once, one frame less latency); default: as the decoder had it")
    p.add_argument("--calibration-split", default="validation", metavar="SPLITS",
                   help="the rendered split(s) to tune on, comma-separated, --validation-segments from each, e.g. "
                        "validation,validation-freepats-grand (thresholds that also suit a piano the weights never heard)")


def calibrate(checkpoint: Path, args: argparse.Namespace) -> int:
    """Run one calibration from parsed options and print what changed."""
    report = calibrate_checkpoint(checkpoint, rendered_dir(args.data_dir), args.validation_segments, args.hop,
                                  args.lookahead, args.calibration_split, args.views, args.latency,
                                  args.alternative_views, None if args.onset_rule is None else args.onset_rule == "rise")
    settings = ", ".join(f"{f.name} {getattr(report.before, f.name)} -> {getattr(report.after, f.name)}"
                         for f in fields(report.after))
    m = report.metrics
    print(f"{checkpoint} ({args.latency}): {settings} (None: not used); "
          f"window hop {report.window.hop} look-ahead {report.window.lookahead}, views {report.views}; "
          f"{report.split} note F1 {m.note_f1:.4f}, note-with-offset F1 {m.note_offset_f1:.4f}, frame F1 {m.frame_f1:.4f}")
    return 0
