"""`notestream train`: train the CR-GCN on a prepared data folder (rendered ASAP or MAESTRO)."""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

from notestream.cli import UserError
from notestream.commands.average import average
from notestream.commands.calibrate import add_calibration_arguments, calibrate
from notestream.model.data.augment import AugmentConfig
from notestream.model.data.corpus import rendered_dir
from notestream.model.data.dataset import CropEmphasis
from notestream.model.training import TrainConfig, Trainer, train_config_from_dict
from notestream.notes import MAX_PITCH, MIN_PITCH

AUGMENTATIONS = ("gain", "eq_tilt", "band_eq", "reverb", "noise")


def register(subparsers) -> None:
    d = TrainConfig()
    p = subparsers.add_parser("train", help="train the CR-GCN model", description=__doc__,
                              formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", default=None, help="prepared data (default $NOTESTREAM_DATA/rendered or ./data/rendered)")
    p.add_argument("--out", default=d.out_dir, help="run folder: log.csv, curves.png, last.pt, best.pt")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--crop-frames", type=int, default=d.crop_frames)
    p.add_argument("--lr", type=float, default=d.learning_rate)
    p.add_argument("--grad-accumulation", type=int, default=d.grad_accumulation)
    p.add_argument("--validate-every", type=int, default=d.validate_every)
    p.add_argument("--validation-segments", type=int, default=d.validation_segments)
    p.add_argument("--patience", type=int, default=d.patience)
    p.add_argument("--minutes", type=float, default=d.minutes,
                   help="training-time budget (validation not counted); the LR schedule decays over it or --steps, whichever ends first")
    p.add_argument("--data-workers", type=int, default=d.data_workers,
                   help="processes that prepare augmented batches ahead (0: the training process; use several on a GPU)")
    p.add_argument("--augment-on-device", action="store_true",
                   help="run the augmentation's filtering on the training device, leaving the data workers only cropping "
                        "and labelling (on a GPU the workers then no longer set the pace)")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--device", default=d.device, help="auto, cpu or cuda")
    p.add_argument("--no-amp", action="store_true", help="disable mixed precision on CUDA")
    p.add_argument("--cpu-bf16", action="store_true",
                   help="on the CPU, compute the network in bfloat16 where the CPU has native bf16 units (AMX or "
                        "AVX512-BF16): about twice the steps per minute; weights and optimiser stay float32")
    p.add_argument("--label-head", choices=("gcn", "linear"), default=d.model.label_head, help="linear = the no-GCN ablation")
    p.add_argument("--tau", type=float, default=d.model.adjacency_tau, help="label-graph threshold on P(j|i)")
    p.add_argument("--reweight", type=float, default=d.model.adjacency_reweight,
                   help="ML-GCN adjacency re-weighting p (0 = the paper's normalisation)")
    p.add_argument("--label-graph", choices=("cooccurrence", "harmonic"), default=d.model.label_graph,
                   help="GCN graph: keys that sound together (the paper, --tau) or keys a partial 2..6 apart (confusable)")
    p.add_argument("--gcn-residual", action="store_true",
                   help="GCN head adds to free per-key classifiers (its last layer starts at zero)")
    p.add_argument("--cnn-channels", type=_channel_counts, default=d.model.cnn_channels, metavar="C1,C2,C3",
                   help="channels of the three CNN layers (wider models need a GPU to train and cost CPU real-time margin)")
    p.add_argument("--cnn-fc", type=int, default=d.model.cnn_fc, help="size of the CNN's fully connected output")
    p.add_argument("--rnn-hidden", type=int, default=d.model.rnn_hidden, help="hidden size of each GRU direction")
    p.add_argument("--hop", type=int, default=None, help=f"streaming block size in frames (default {d.window.hop})")
    p.add_argument("--lookahead", type=int, default=None,
                   help=f"look-ahead frames the checkpoint ships with (default {d.window.lookahead}); "
                        "with --calibrate: re-window that checkpoint, then tune its thresholds for the new window")
    p.add_argument("--train-lookaheads", type=_counts, default=d.train_lookaheads, metavar="L1,L2,...",
                   help="look-aheads drawn per training step (one checkpoint then serves each of them)")
    p.add_argument("--train-hops", type=_counts, default=d.train_hops, metavar="H1,H2,...",
                   help="streaming block sizes drawn per training step (default: --hop's only)")
    p.add_argument("--no-augment", choices=AUGMENTATIONS, action="append", default=[], help="switch an augmentation off")
    p.add_argument("--pitch-shift", type=int, default=0, metavar="SEMITONES",
                   help="pitch-shift each crop by a random whole number of semitones up to this many (labels moved along)")
    p.add_argument("--room-share", type=_share, default=0.0, metavar="SHARE",
                   help="share of the reverberated crops heard in a random image-source room instead of decaying noise")
    p.add_argument("--oversample-soft", type=float, default=0.0, metavar="X",
                   help="draw a segment 1 + X times its share of notes below velocity 48 as often (soft passages)")
    p.add_argument("--oversample-chords", type=float, default=0.0, metavar="X",
                   help="draw a segment 1 + X times its share of notes in 5+-note chords as often (dense chords)")
    p.add_argument("--window-future", type=int, default=None, metavar="SAMPLES",
                   help="STFT window reaching only this many samples past each frame (asymmetric; default n_fft/2, a Hann)")
    p.add_argument("--focal-gamma", type=float, default=d.loss.focal_gamma, metavar="GAMMA",
                   help="focal-loss exponent of the onset, frame and offset heads (0 = class-weighted BCE)")
    p.add_argument("--bass-onset-weight", type=float, default=d.loss.bass_onset_weight, metavar="X",
                   help="onset positives of MIDI 21 to --bass-top-pitch weigh X times the others (a fine-tune that loses the bass)")
    p.add_argument("--bass-top-pitch", type=int, default=d.loss.bass_top_pitch, metavar="MIDI",
                   help=f"the highest key --bass-onset-weight reaches (default {d.loss.bass_top_pitch}: MIDI 21-35)")
    p.add_argument("--soft-onset-weight", type=float, default=d.loss.soft_onset_weight, metavar="X",
                   help="onset positives below velocity 48 weigh X times the others (a fine-tune that loses soft notes)")
    p.add_argument("--calibrate", type=Path, metavar="CHECKPOINT", default=None,
                   help="trains nothing: the same as `notestream calibrate CHECKPOINT` (kept for existing scripts)")
    p.add_argument("--average", type=Path, nargs="+", metavar="CHECKPOINT", default=None,
                   help="trains nothing: the same as `notestream average CHECKPOINT... --out OUT` (kept for existing scripts)")
    add_calibration_arguments(p, in_train=True)
    p.add_argument("--init-from", default=None, metavar="CHECKPOINT",
                   help="start from these weights (e.g. model/checkpoints/notestream.pt) with a fresh optimiser")
    p.add_argument("--cooccurrence", default=None, metavar="NPY",
                   help="build the label graph from a run's saved co-occurrence counts (RUN/cooccurrence.npy), "
                        "e.g. to fine-tune on other data but keep the graph of the corpus the --init-from weights learnt")
    p.add_argument("--keep-graph", action="store_true",
                   help="with --init-from: keep that checkpoint's label graph rather than build one from this corpus "
                        "(a fine-tune on a smaller corpus, when the original run's counts are not at hand)")
    p.add_argument("--train-splits", default="train", metavar="SPLITS",
                   help="comma-separated rendered splits to train on, e.g. train,train-salamander (a sampled piano "
                        "rendered with `notestream data render --sampled-piano`)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt with OUT/config.json")
    p.add_argument("--ship", action="store_true", help="copy OUT/best.pt to the shipped checkpoint at the end")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace) -> TrainConfig:
    if args.label_head == "linear" and (args.gcn_residual or args.label_graph != "cooccurrence"):
        raise UserError("--gcn-residual and --label-graph shape the GCN head; a --label-head linear run has none")
    d = TrainConfig()
    augment = replace(AugmentConfig(), **{name: False for name in args.no_augment})
    if args.room_share > 0:
        augment = replace(augment, rooms=True, room_share=args.room_share)
    if not 0 <= args.pitch_shift <= 12:
        raise UserError(f"--pitch-shift {args.pitch_shift}: expected 0 to 12 semitones")
    augment = replace(augment, pitch_shift_semitones=args.pitch_shift)
    if min(args.oversample_soft, args.oversample_chords) < 0:
        raise UserError("--oversample-soft and --oversample-chords: expected 0 or more")
    if min(args.train_hops, default=1) < 1:
        raise UserError(f"--train-hops {args.train_hops}: a block holds at least one frame")
    if args.focal_gamma < 0:
        raise UserError(f"--focal-gamma {args.focal_gamma}: expected 0 or more")
    if min(args.bass_onset_weight, args.soft_onset_weight) <= 0:
        raise UserError("--bass-onset-weight and --soft-onset-weight: expected more than 0")
    if not MIN_PITCH <= args.bass_top_pitch <= MAX_PITCH:
        raise UserError(f"--bass-top-pitch {args.bass_top_pitch}: expected a piano key, MIDI {MIN_PITCH}-{MAX_PITCH}")
    try:
        features = replace(d.features, future_samples=args.window_future)
    except ValueError as exc:
        raise UserError(f"--window-future: {exc}") from exc
    return replace(
        d, data_dir=str(rendered_dir(args.data_dir)), out_dir=args.out,
        train_splits=tuple(s.strip() for s in args.train_splits.split(",") if s.strip()),
        steps=args.steps, batch_size=args.batch_size, crop_frames=args.crop_frames, learning_rate=args.lr,
        grad_accumulation=args.grad_accumulation, validate_every=args.validate_every,
        validation_segments=args.validation_segments, patience=args.patience, seed=args.seed, device=args.device,
        minutes=args.minutes, data_workers=args.data_workers, augment_on_device=args.augment_on_device,
        amp=not args.no_amp, cpu_bf16=args.cpu_bf16, init_from=args.init_from, cooccurrence=args.cooccurrence,
        keep_graph=args.keep_graph, window=d.window.replaced(args.hop, args.lookahead), augment=augment,
        train_lookaheads=args.train_lookaheads, train_hops=args.train_hops,
        loss=replace(d.loss, focal_gamma=args.focal_gamma, bass_onset_weight=args.bass_onset_weight,
                     bass_top_pitch=args.bass_top_pitch, soft_onset_weight=args.soft_onset_weight),
        emphasis=CropEmphasis(soft=args.oversample_soft, chords=args.oversample_chords), features=features,
        model=replace(d.model, cnn_channels=args.cnn_channels, cnn_fc=args.cnn_fc, rnn_hidden=args.rnn_hidden,
                      label_head=args.label_head, adjacency_tau=args.tau, adjacency_reweight=args.reweight,
                      label_graph=args.label_graph, gcn_residual=args.gcn_residual),
    )


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a share between 0 and 1")
    return value


def _counts(text: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in text.split(",") if v.strip())
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated whole numbers, e.g. 1,2,4")
    return values


def _channel_counts(text: str) -> tuple[int, int, int]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 3 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected three positive channel counts, e.g. 32,32,64")
    return values


def run(args: argparse.Namespace) -> int:
    if args.average:
        return average(args.average, Path(args.out))
    if args.calibrate:
        return calibrate(args.calibrate, args)
    config_path = Path(args.out) / "config.json"
    if args.resume and config_path.is_file():
        config = train_config_from_dict(json.loads(config_path.read_text()))
        config = replace(config, steps=args.steps, device=args.device, data_workers=args.data_workers,
                         augment_on_device=args.augment_on_device)
    else:
        config = build_config(args)
        config_path.parent.mkdir(parents=True, exist_ok=True)
        from dataclasses import asdict

        config_path.write_text(json.dumps(asdict(config), indent=1, default=str))
    best = Trainer(config, resume=args.resume).fit()
    print(f"best validation note F1 {best:.4f}; checkpoint {Path(config.out_dir) / 'best.pt'}")
    if args.ship:
        from notestream.model.checkpoint import SHIPPED_CHECKPOINT

        shutil.copyfile(Path(config.out_dir) / "best.pt", SHIPPED_CHECKPOINT)
        print(f"shipped as {SHIPPED_CHECKPOINT}")
    return 0
