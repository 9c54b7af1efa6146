"""`notestream bench batches`: how fast training batches are made, and so how many data workers a GPU needs.

One process draws augmented batches (random crops, labels, pitch shifts, EQ, rooms, noise) exactly as a
training data worker does, one torch thread, and reports wall and CPU seconds per batch; then again with the
filtering left to the training device (`train --augment-on-device`), where a worker only crops and labels. On a GPU the
workers, not the accelerator, have set the step rate (docs/training-log.md): a step rate of S per
second needs about S x (seconds per batch) workers, which the table lists for a few rates.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from notestream.model.data.augment import AugmentConfig
from notestream.model.data.batches import AugmentedBatches
from notestream.model.data.corpus import data_dir
from notestream.model.data.dataset import CropSampler
from notestream.model.features import FeatureConfig

STEP_RATES = (10, 20, 40)


def register_batches_bench(bench_subparsers) -> None:
    """Add `batches` to the `notestream bench` subcommands."""
    p = bench_subparsers.add_parser("batches", help="training batches per second, and data workers per GPU step rate",
                                    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default=None, help="data folder holding rendered/ (default $NOTESTREAM_DATA or ./data)")
    p.add_argument("--splits", default="train,train-salamander", help="comma-separated training splits (those present)")
    p.add_argument("--batch-size", type=int, default=48)
    p.add_argument("--crop-frames", type=int, default=256)
    p.add_argument("--pitch-shift", type=int, default=2, help="semitones, as `train --pitch-shift`")
    p.add_argument("--batches", type=int, default=10, help="batches timed, after one warm-up batch")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path, default=None, help="write the report here too")
    p.set_defaults(func=run_batches)


def batch_timing(sampler: CropSampler, batch_size: int, pitch_shift: int, batches: int, seed: int,
                 augment_here: bool = True) -> dict:
    """Wall and CPU seconds per batch, one torch thread, after a warm-up batch; augmented as a worker does, or
    (`augment_here` False, as with `train --augment-on-device`) only cropped and labelled."""
    torch.set_num_threads(1)
    config = AugmentConfig(pitch_shift_semitones=pitch_shift)
    stream = iter(AugmentedBatches(sampler, batch_size, config, seed, augment_here=augment_here))
    next(stream)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(batches):
        next(stream)
    wall, cpu = (time.perf_counter() - wall) / batches, (time.process_time() - cpu) / batches
    return {"seconds_per_batch": wall, "cpu_seconds_per_batch": cpu, "crops_per_second": batch_size / wall,
            "workers_for_steps_per_second": {str(s): math.ceil(s * wall) for s in STEP_RATES}}


def run_batches(args: argparse.Namespace) -> int:
    root = data_dir(args.data_dir) / "rendered"
    splits = tuple(s for s in args.splits.split(",") if (root / s).is_dir())
    if not splits:
        raise FileNotFoundError(f"{root}: none of the splits {args.splits} (render them: notestream data render)")
    started = time.perf_counter()
    sampler = CropSampler(root, splits, FeatureConfig(), args.crop_frames, args.seed)
    report = {"splits": list(splits), "segments": len(sampler.segments), "load_seconds": time.perf_counter() - started,
              "batch_size": args.batch_size, "crop_frames": args.crop_frames, "pitch_shift": args.pitch_shift,
              "batches": args.batches, **batch_timing(sampler, args.batch_size, args.pitch_shift, args.batches, args.seed),
              "augment_on_device": batch_timing(sampler, args.batch_size, args.pitch_shift, args.batches, args.seed,
                                                augment_here=False)}
    print(format_markdown(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def format_markdown(report: dict) -> str:
    """The report as RESULTS.md shows it: one line of context, one table row."""
    def row(where: str, timing: dict) -> str:
        workers = ", ".join(f"{n} for {s} steps/s" for s, n in timing["workers_for_steps_per_second"].items())
        return (f"| {where} | {timing['seconds_per_batch']:.3f} | {timing['cpu_seconds_per_batch']:.3f} | "
                f"{timing['crops_per_second']:.1f} | {workers} |")

    rows = [row("in the data workers", report)]
    if "augment_on_device" in report:
        rows.append(row("on the training device (`--augment-on-device`)", report["augment_on_device"]))
    return (f"{report['segments']} segments of {', '.join(report['splits'])} (loaded in {report['load_seconds']:.1f} s); "
            f"batches of {report['batch_size']} x {report['crop_frames']} frames, pitch shifts ±{report['pitch_shift']}, "
            f"one thread, {report['batches']} batches timed.\n\n"
            "| augmentation filtered | s per batch (wall) | s per batch (CPU) | crops per second | data workers needed |\n"
            "|---|---|---|---|---|\n" + "\n".join(rows))
