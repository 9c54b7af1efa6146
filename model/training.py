"""`notestream train`: the CR-GCN training loop with validation, early stopping, resume and logs."""

from __future__ import annotations

import csv
import json
import logging
import math
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .checkpoint import LoadedModel, cpu_has_native_bf16, resolve_device, save_checkpoint
from .config import DecoderConfig, ModelConfig, WindowConfig, config_from_dict
from .data.augment import AugmentConfig, augment_batch
from .data.batches import AugmentedBatches, batch_stream
from .data.corpus import iter_segments
from .data.dataset import Batch, CropEmphasis, CropSampler
from .data.statistics import split_statistics
from .features import FeatureConfig, LogMelExtractor
from .gcn import harmonic_adjacency, normalized_adjacency
from .losses import LossConfig, transcription_loss
from .network import CRGCN
from .validation import calibrate_decoder
from .widening import sizes_differ, widen_state_dict

log = logging.getLogger(__name__)

NON_FINITE_LIMIT = 20  # consecutive steps with a NaN/inf loss before a run is stopped


class NonFiniteLoss(ValueError):
    """The training loss stayed NaN or infinite: the run would only waste its budget."""


@dataclass
class TrainConfig:
    """Everything a training run depends on; stored in the checkpoint's metadata."""

    data_dir: str = "data/rendered"
    train_splits: tuple[str, ...] = ("train",)  # folders under data_dir that training crops come from
    out_dir: str = "runs/crgcn"
    steps: int = 20000
    batch_size: int = 12
    crop_frames: int = 256
    learning_rate: float = 1e-3
    warmup_steps: int = 300
    grad_accumulation: int = 1
    amp: bool = True  # CUDA only: float16 autocast with loss scaling
    # CPU only: the network computes in bfloat16 (autocast; weights, loss and optimiser stay float32) on a CPU with
    # native bf16 units, about twice the steps per minute there; elsewhere the run stays float32 and says so
    cpu_bf16: bool = False
    validate_every: int = 500
    validation_segments: int = 24
    patience: int = 8  # validations without improvement before stopping
    minutes: float | None = None  # training-time budget; the LR schedule then decays over it (None: steps only)
    data_workers: int = 0  # processes preparing batches ahead (0: the training process itself)
    # filter (EQ, reverb, noise) on the training device after the batch is moved there, not in the data workers:
    # on a GPU most of a worker's time was this filtering, so the workers, not the GPU, set the pace
    augment_on_device: bool = False
    seed: int = 1234
    device: str = "auto"
    init_from: str | None = None  # an inference checkpoint whose weights start this run (e.g. the shipped one)
    cooccurrence: str | None = None  # a run's saved label co-occurrence counts (.npy) to build the graph from
    keep_graph: bool = False  # with init_from: keep that checkpoint's label graph instead of building this run's
    train_lookaheads: tuple[int, ...] = (4, 8, 16, 32)
    train_hops: tuple[int, ...] = ()  # streaming block sizes drawn per step like the look-ahead (empty: window.hop)
    window: WindowConfig = field(default_factory=WindowConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    features: FeatureConfig = field(default_factory=FeatureConfig)
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    emphasis: CropEmphasis = field(default_factory=CropEmphasis)  # soft passages and dense chords drawn more often
    loss: LossConfig = field(default_factory=LossConfig)


def training_window(cfg: TrainConfig, step: int) -> WindowConfig:
    """The streaming window of one training step: look-ahead (and block size, if several) drawn per step,
    so one set of weights learns to serve every window it may be run with."""
    draw = random.Random(cfg.seed + step)
    lookahead = draw.choice(cfg.train_lookaheads)
    hop = draw.choice(cfg.train_hops) if cfg.train_hops else cfg.window.hop
    return WindowConfig(hop, lookahead)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def label_graph(data_root: Path, features: FeatureConfig, model: ModelConfig,
                counts_file: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Co-occurrence counts of the training labels' frames and the normalised adjacency of `model.label_graph`.

    `counts_file` takes the counts of another run instead: a fine-tune on a smaller or other corpus then
    keeps the graph of the corpus its weights were trained on.
    """
    if counts_file:
        counts = np.load(counts_file)
    else:
        counts = split_statistics(data_root, "train", features)["cooccurrence"]
    if model.label_graph == "cooccurrence":
        return counts, normalized_adjacency(counts, model.adjacency_tau, model.adjacency_reweight)
    if model.label_graph == "harmonic":
        return counts, harmonic_adjacency(model.adjacency_reweight)
    raise ValueError(f"unknown label_graph {model.label_graph!r}; expected 'cooccurrence' or 'harmonic'")


def lr_at(step: int, config: TrainConfig, seconds: float = 0.0) -> float:
    """Linear warm-up then cosine decay to 5% of the peak, over the steps or the time budget, whichever ends first."""
    if step < config.warmup_steps:
        return config.learning_rate * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps))
    if config.minutes:
        progress = max(progress, min(1.0, seconds / (60 * config.minutes)))
    return config.learning_rate * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


class Trainer:
    """Owns the model, optimiser, data and logs of one run; `fit()` trains, resuming if asked."""

    def __init__(self, config: TrainConfig, resume: bool = False):
        self.config = config
        self.device = resolve_device(config.device)
        self.out = Path(config.out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        seed_everything(config.seed)
        root = Path(config.data_dir)
        self.counts, adjacency = label_graph(root, config.features, config.model, config.cooccurrence)
        np.save(self.out / "cooccurrence.npy", self.counts)
        self.model = CRGCN(config.model, config.features.n_mels, adjacency).to(self.device)
        self.mel = LogMelExtractor(config.features).to(self.device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.learning_rate)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        if config.cpu_bf16 and self.device.type == "cpu" and self.autocast_dtype is None:
            log.warning("--cpu-bf16: this CPU has no native bfloat16 units (AMX or AVX512-BF16); training in float32")
        self.sampler = CropSampler(root, config.train_splits, config.features, config.crop_frames, config.seed,
                                   config.emphasis)
        self.validation = list(iter_segments(root, "validation", config.features.sample_rate))[: config.validation_segments]
        self.step, self.best_f1, self.stale, self.wall = 0, -1.0, 0, 0.0
        self.non_finite = 0
        if resume and (self.out / "last.pt").is_file():
            self._load_state(self.out / "last.pt")
        elif config.init_from:
            self._init_weights(Path(config.init_from))
        self.batches = self._batches()

    def _batches(self) -> Iterator[Batch]:
        """Augmented batches, drawn afresh from this step on (a resumed run does not replay its crops)."""
        seed = self.config.seed + self.step
        # for augment_on_device: parameters drawn on the CPU, noise and reverb tails on the device itself
        self.augment_generator = torch.Generator().manual_seed(seed * 1009 + 7919)
        self.noise_generator = torch.Generator(device=self.device).manual_seed(seed * 1009 + 7927)
        stream = AugmentedBatches(self.sampler, self.config.batch_size, self.config.augment, seed,
                                  augment_here=not self.config.augment_on_device)
        return batch_stream(stream, self.config.data_workers)

    def _next_batch(self) -> Batch:
        batch = next(self.batches).to(self.device)
        if not self.config.augment_on_device:
            return batch
        rate = self.config.features.sample_rate
        audio = augment_batch(batch.audio, self.config.augment, rate, self.augment_generator, noise_gen=self.noise_generator)
        return replace(batch, audio=audio)

    @property
    def out_of_time(self) -> bool:
        return self.config.minutes is not None and self.wall >= 60 * self.config.minutes

    @property
    def use_amp(self) -> bool:
        return self.config.amp and self.device.type == "cuda"

    @property
    def autocast_dtype(self) -> torch.dtype | None:
        """What the network's forward pass computes in under autocast (None: float32 throughout)."""
        if self.use_amp:
            return torch.float16
        if self.config.cpu_bf16 and self.device.type == "cpu" and cpu_has_native_bf16():
            return torch.bfloat16
        return None

    def _init_weights(self, path: Path) -> None:
        """Start from another checkpoint's weights, with this run's label graph (its tau may differ) unless
        `keep_graph` asks for the checkpoint's own (a fine-tune on a smaller corpus whose counts would differ)."""
        payload = torch.load(path, map_location="cpu", weights_only=True)
        weights = {name: value for name, value in payload["state_dict"].items()
                   if self.config.keep_graph or not name.endswith("adjacency")}
        source = config_from_dict(ModelConfig, payload["model_config"])
        target = self.config.model
        if sizes_differ(source, target):
            generator = torch.Generator().manual_seed(self.config.seed)
            try:
                weights = widen_state_dict(weights, source, target, generator)
            except ValueError as exc:
                raise ValueError(f"{path} does not fit this model: {exc}") from exc
            log.info("widened %s: CNN channels %s -> %s, CNN FC %d -> %d, GRU %d -> %d per direction", path,
                     source.cnn_channels, target.cnn_channels, source.cnn_fc, target.cnn_fc, source.rnn_hidden,
                     target.rnn_hidden)
        missing, unexpected = self.model.load_state_dict(weights, strict=False)
        if unexpected or any(not name.endswith("adjacency") for name in missing):
            raise ValueError(f"{path} does not fit this model: missing {missing}, unexpected {unexpected}")
        graph = "of that checkpoint" if self.config.keep_graph else f"of this run: {target.label_graph}, tau {target.adjacency_tau:.2f}"
        log.info("weights initialised from %s (label graph %s)", path, graph)

    def _load_state(self, path: Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=False)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.best_f1, self.stale, self.wall = state["step"], state["best_f1"], state["stale"], state["wall"]
        log.info("resumed %s at step %d (best note F1 %.4f)", path, self.step, self.best_f1)

    def _save_state(self) -> None:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "step": self.step,
                 "best_f1": self.best_f1, "stale": self.stale, "wall": self.wall}
        torch.save(state, self.out / "last.pt.tmp")
        (self.out / "last.pt.tmp").replace(self.out / "last.pt")

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        window = training_window(cfg, self.step)
        for group in self.optimizer.param_groups:
            group["lr"] = lr_at(self.step, cfg, self.wall)
        totals: dict[str, float] = {}
        for _ in range(cfg.grad_accumulation):
            batch = self._next_batch()
            dtype = self.autocast_dtype
            with torch.autocast(self.device.type, dtype=dtype, enabled=dtype is not None):
                logits = self.model(self.mel(batch.audio), window)
            losses = transcription_loss({k: v.float() for k, v in logits.items()}, batch, cfg.loss)
            self.scaler.scale(losses["total"] / cfg.grad_accumulation).backward()
            for k, v in losses.items():
                totals[k] = totals.get(k, 0.0) + float(v.detach()) / cfg.grad_accumulation
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 3.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return totals

    def loaded(self) -> LoadedModel:
        metadata = {"train_segments": len(self.sampler.segments), "name": Path(self.config.out_dir).name, "steps": self.step, "wall_seconds": round(self.wall),
                    "best_validation_note_f1": self.best_f1, "train_config": _jsonable(asdict(self.config)),
                    "data": "performances rendered through piano SoundFonts from train_config.data_dir "
                            "(see model/README.md)", "train_segments_by_source": self.sampler.segments_by_source()}
        return LoadedModel(self.model, self.config.features, self.config.window, DecoderConfig(), metadata)

    def validate(self) -> tuple[dict[str, float], DecoderConfig]:
        """Validation scores at the decoder thresholds that suit the current weights best."""
        loaded = self.loaded()
        loaded.model.eval()
        decoder, scores = calibrate_decoder(loaded, self.validation)
        self.model.train()
        return scores.to_dict(), decoder

    def export(self, path: Path, decoder: DecoderConfig | None = None) -> None:
        """Save the current weights as an inference checkpoint, with calibrated decoder thresholds."""
        loaded = self.loaded()
        loaded.model.eval()
        loaded.decoder = decoder or calibrate_decoder(loaded, self.validation)[0]
        save_checkpoint(path, loaded)
        self.model.train()

    def fit(self) -> float:
        """Train until `steps`, the time budget or early stopping; returns the best validation note F1."""
        cfg = self.config
        self.model.train()
        bar = tqdm(total=cfg.steps, initial=self.step, desc="training", unit="step")
        while self.step < cfg.steps and self.stale < cfg.patience and not self.out_of_time:
            started = time.perf_counter()
            losses = self.train_step()
            self.wall += time.perf_counter() - started
            self._check_finite(losses["total"])
            bar.update(1)
            bar.set_postfix(loss=f"{losses['total']:.4f}")
            row = {"step": self.step, "lr": lr_at(self.step, cfg, self.wall), **losses}
            validating = self.step % cfg.validate_every == 0 or self.step == cfg.steps or self.out_of_time
            if validating:
                scores, decoder = self.validate()
                row.update({f"val_{k}": v for k, v in scores.items()})
                row.update(val_onset_threshold=decoder.onset_threshold, val_frame_threshold=decoder.frame_threshold,
                           val_offset_threshold=decoder.offset_threshold)
            _append_csv(self.out / "log.csv", row)
            if validating:
                self._after_validation(scores["note_f1"], decoder)
        bar.close()
        plot_curves(self.out / "log.csv", self.out / "curves.png")
        return self.best_f1

    def _check_finite(self, loss: float) -> None:
        """A NaN loss now and then is AMP's loss scaling at work; a run of them is a broken run."""
        self.non_finite = 0 if np.isfinite(loss) else self.non_finite + 1
        if self.non_finite >= NON_FINITE_LIMIT:
            hint = (" (mixed precision is on: try --no-amp)" if self.use_amp else
                    " (bfloat16 is on: try without --cpu-bf16)" if self.autocast_dtype is not None else "")
            raise NonFiniteLoss(f"the training loss has been NaN or infinite for {self.non_finite} steps, "
                                f"up to step {self.step}{hint}; last.pt holds the last validated state")

    def _after_validation(self, f1: float, decoder: DecoderConfig) -> None:
        known = len(self.sampler.segments)
        if self.sampler.refresh() != known:
            self.batches = self._batches()
        log.info("training on %d segments", len(self.sampler.segments))
        if f1 > self.best_f1:
            self.best_f1, self.stale = f1, 0
            self.export(self.out / "best.pt", decoder)
        else:
            self.stale += 1
        self._save_state()
        plot_curves(self.out / "log.csv", self.out / "curves.png")
        log.info("step %d: validation note F1 %.4f (best %.4f)", self.step, f1, self.best_f1)


def _jsonable(value):
    return json.loads(json.dumps(value, default=str))


def _append_csv(path: Path, row: dict) -> None:
    """Append a row; only a row with new columns (the first validation) rewrites the file with a wider header."""
    row = {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
    header: list[str] = []
    if path.is_file():
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])
    if header and set(row) <= set(header):
        with path.open("a", newline="") as f:
            csv.DictWriter(f, header).writerow(row)
        return
    rows = []
    if header:
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(dict.fromkeys([*header, *row])))
        writer.writeheader()
        writer.writerows([*rows, row])


def plot_curves(log_csv: Path, out_png: Path) -> None:
    """Training loss (smoothed) and validation F1 against step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with log_csv.open(newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return
    steps = np.array([int(r["step"]) for r in rows])
    loss = np.array([float(r["total"]) for r in rows])
    kernel = np.ones(min(50, len(loss))) / min(50, len(loss))
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    a.plot(steps, loss, alpha=0.3)
    a.plot(steps[len(kernel) - 1:], np.convolve(loss, kernel, mode="valid"))
    a.set(xlabel="step", ylabel="training loss", yscale="log", title="loss")
    val = [(int(r["step"]), float(r[k])) for r in rows for k in ("val_note_f1",) if r.get(k)]
    for key in ("val_note_f1", "val_frame_f1", "val_note_offset_f1"):
        pts = [(int(r["step"]), float(r[key])) for r in rows if r.get(key)]
        if pts:
            b.plot(*zip(*pts, strict=True), marker="o", label=key[4:])
    b.set(xlabel="step", ylabel="F1", title="validation", ylim=(0, 1))
    if val:
        b.legend()
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
    plt.close(fig)


def train_config_from_dict(data: dict) -> TrainConfig:
    nested = {"window": WindowConfig, "model": ModelConfig, "features": FeatureConfig, "augment": AugmentConfig, "loss": LossConfig,
              "emphasis": CropEmphasis}
    if "augment" in data and "band_eq" not in data["augment"]:  # saved before band EQ existed: trained without it
        data = {**data, "augment": {**data["augment"], "band_eq": False}}
    values = {k: (config_from_dict(nested[k], v) if k in nested else tuple(v) if isinstance(v, list) else v) for k, v in data.items()}
    return TrainConfig(**values)
