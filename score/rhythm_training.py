"""Train the rhythm network on ASAP's training works, choosing the checkpoint on the validation works.

    python -m notestream.score.rhythm_training --minutes 60 --out score/weights/rhythm.pt

Random crops of a few hundred notes, augmented (see rhythm_data), one thread: it trains on a laptop CPU.
The learning rate decays over the time budget (cosine); --init-from continues from earlier weights.
`--ensemble A.pt B.pt ... --out F` trains nothing: it writes the networks as one ensemble (their logits
averaged), which is how the shipped weights were made (docs/training-log.md).
"""

from __future__ import annotations

import argparse
import logging
import pickle
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .rhythm_data import IGNORE, Augmentation, RhythmExample, augment, build_example, split_rows
from .rhythm_net import (
    DEFAULT_CHECKPOINT,
    RhythmConfig,
    RhythmEnsemble,
    RhythmNet,
    load_rhythm_net,
    note_features,
    save_rhythm_checkpoint,
)

log = logging.getLogger(__name__)
CHECKOUT = Path(__file__).resolve().parent.parent  # training runs from a checkout, beside ../shared
SPLITS_DIR = CHECKOUT / "model" / "splits"


def load_examples(asap_root: Path, split: str, cache: Path) -> list[RhythmExample]:
    """Examples of a split, built once and cached (labels need the score match, which is slow)."""
    path = cache / f"rhythm-{split}.pkl"
    if path.is_file():
        return pickle.loads(path.read_bytes())
    rows = split_rows(asap_root, SPLITS_DIR / f"{split}.txt")
    examples = []
    for number, row in enumerate(rows, 1):
        log.info("%s %d/%d %s", split, number, len(rows), row["midi_performance"])
        examples.append(build_example(row, asap_root))
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(examples))
    return examples


def batch_tensors(examples: list[RhythmExample], config: RhythmConfig) -> dict[str, torch.Tensor]:
    """Pad examples to one length, with the features `config` reads; padded notes carry IGNORE labels."""
    length = max(len(e.onset) for e in examples)

    def pad(values: np.ndarray, fill: float) -> np.ndarray:
        return np.concatenate([values, np.full((length - len(values), *values.shape[1:]), fill)])

    out = {"features": np.stack([pad(note_features(e.notes(), config), 0.0) for e in examples])}
    for name in ("beat", "downbeat", "log_period", "time_signature", "key", "hand"):
        out[name] = np.stack([pad(getattr(e, name).astype(np.float32), IGNORE) for e in examples])
    out["mask"] = np.stack([pad(np.ones(len(e.onset), np.float32), 0.0) for e in examples])
    return {k: torch.from_numpy(v.astype(np.float32)) for k, v in out.items()}


def losses(out: dict[str, torch.Tensor], batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Masked per-head losses: BCE for beat, downbeat and hand, L1 on the log period, CE for the classes."""
    mask = batch["mask"] > 0
    hand = batch["hand"] >= 0
    result = {
        "beat": F.binary_cross_entropy_with_logits(out["beat"][mask], batch["beat"][mask]),
        "downbeat": F.binary_cross_entropy_with_logits(out["downbeat"][mask], batch["downbeat"][mask]),
        "period": F.smooth_l1_loss(out["log_period"][mask], batch["log_period"][mask], beta=0.1),
        "hand": F.binary_cross_entropy_with_logits(out["hand"][hand], batch["hand"][hand])
        if hand.any() else torch.zeros(()),
    }
    for name in ("time_signature", "key"):
        labels = batch[name].long()
        result[name] = F.cross_entropy(out[name].flatten(0, 1), labels.flatten(), ignore_index=IGNORE)
        if not (labels >= 0).any():
            result[name] = torch.zeros(())
    return result


def random_crops(
    examples: list[RhythmExample], rng: np.random.Generator, size: int, crop: int, aug: Augmentation,
    extra: list[RhythmExample] = (), extra_share: float = 0.0,
) -> list[RhythmExample]:
    """`size` augmented crops of about `crop` notes from random performances, `extra_share` of them (on
    average) from the `extra` examples."""
    crops = []
    for _ in range(size):
        pool = extra if extra and rng.random() < extra_share else examples
        ex = pool[int(rng.integers(len(pool)))]
        start = int(rng.integers(0, max(1, len(ex.onset) - crop)))
        piece = ex.take(np.arange(start, min(len(ex.onset), start + crop)))
        piece = replace(piece, offset=piece.offset - piece.onset[0], onset=piece.onset - piece.onset[0])
        crops.append(augment(piece, rng, aug))
    return crops


def validation_loss(net: RhythmNet, examples: list[RhythmExample], crop: int) -> float:
    """Summed head losses over fixed, unaugmented crops of the validation performances."""
    net.eval()
    total = 0.0
    with torch.inference_mode():
        for ex in examples:
            for start in range(0, len(ex.onset), crop):
                batch = batch_tensors([ex.take(np.arange(start, min(len(ex.onset), start + crop)))], net.config)
                total += float(sum(losses(net(batch["features"]), batch).values()))
    net.train()
    return total


def train(args: argparse.Namespace) -> None:
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    train_set = load_examples(args.asap_root, "train", args.cache)
    validation = load_examples(args.asap_root, "validation", args.cache)[:: args.validation_stride]
    extra = pickle.loads(args.extra.read_bytes()) if args.extra else []
    data = "ASAP train works (model/splits/train.txt)"
    if extra:
        data += f", {args.extra_share:.0%} of crops from {len(extra)} examples of {args.extra.name}"
    provenance = {"data": data, "chosen_on": "validation works, summed loss"}
    config = RhythmConfig(hidden=args.hidden, layers=args.layers, event_features=args.event_features,
                          periodicity_bins=args.periodicity_bins, provenance=provenance)
    net = RhythmNet(config)
    if args.init_from:
        net = load_rhythm_net(args.init_from).train()
        if isinstance(net, RhythmEnsemble):
            raise SystemExit(f"--init-from {args.init_from}: an ensemble; continue from one of its members")
        net.config.provenance.update(config.provenance, continued_from=str(args.init_from.name))
    optimiser = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    best, start, step = np.inf, time.monotonic(), 0
    if args.init_from:
        best = validation_loss(net, validation, 2 * args.crop)
        log.info("continuing from %s: validation %.3f", args.init_from, best)
    while (elapsed := time.monotonic() - start) < args.minutes * 60:
        for group in optimiser.param_groups:
            group["lr"] = args.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * elapsed / (args.minutes * 60))))
        crops = random_crops(train_set, rng, args.batch, args.crop, Augmentation(), extra, args.extra_share)
        batch = batch_tensors(crops, net.config)
        parts = losses(net(batch["features"]), batch)
        optimiser.zero_grad()
        sum(parts.values()).backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        step += 1
        if step % args.every == 0:
            score = validation_loss(net, validation, 2 * args.crop)
            log.info("step %d %.0fs train %s validation %.3f", step, time.monotonic() - start,
                     {k: round(float(v), 3) for k, v in parts.items()}, score)
            this_step = {**net.config.provenance, "chosen_on": "none (a snapshot)", "step": step,
                         "validation_loss": round(score, 3)}
            save_rhythm_checkpoint(args.cache / "rhythm-last.pt", net, this_step)
            if args.snapshot_every and step % args.snapshot_every == 0:
                save_rhythm_checkpoint(args.cache / f"rhythm-step{step}.pt", net, this_step)
            if score < best:
                best = score
                net.config.provenance.update(step=step, validation_loss=round(score, 3))
                save_rhythm_checkpoint(args.out, net)


def write_ensemble(members: list[Path], out: Path) -> None:
    """Checkpoints of one config as one RhythmEnsemble checkpoint at `out` (no training); its provenance
    lists each member's."""
    nets = [load_rhythm_net(path) for path in members]
    save_rhythm_checkpoint(out, RhythmEnsemble(nets), {
        "ensemble": [{"file": f"{path.parent.name}/{path.name}", **net.config.provenance}
                     for path, net in zip(members, nets, strict=True)],
        "chosen_on": "validation works, benchmarks/notes/rhythm-rule.md",
    })
    log.info("wrote an ensemble of %d networks to %s", len(nets), out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--asap-root", type=Path, default=CHECKOUT.parent / "shared" / "data" / "asap")
    p.add_argument("--cache", type=Path, default=Path("data/rhythm"))
    p.add_argument("--out", type=Path, default=DEFAULT_CHECKPOINT)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--hidden", type=int, default=96)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--event-features", action="store_true",
                   help="the network also reads each note's chord (gaps, size, lowest note)")
    p.add_argument("--periodicity-bins", type=int, default=0,
                   help="the network also reads the local interval histogram over this many periods (0: none)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--crop", type=int, default=300)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--every", type=int, default=200)
    p.add_argument("--validation-stride", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--extra", type=Path, default=None,
                   help="a pickle of more RhythmExamples (e.g. humanised scores) to draw crops from")
    p.add_argument("--extra-share", type=float, default=0.5, help="share of crops drawn from --extra")
    p.add_argument("--snapshot-every", type=int, default=0,
                   help="also keep the weights of every this many steps (to choose among on validation)")
    p.add_argument("--init-from", type=Path, default=None,
                   help="continue from these weights (kept only if a validation beats them)")
    p.add_argument("--ensemble", type=Path, nargs="+", default=None,
                   help="instead of training, average these checkpoints' logits as one ensemble written to --out")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = p.parse_args()
    if args.ensemble:
        write_ensemble(args.ensemble, args.out)
    else:
        train(args)


if __name__ == "__main__":
    main()
