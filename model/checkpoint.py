"""One self-describing checkpoint file: configs, feature parameters, label graph, weights, provenance."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import (
    ACCURATE,
    PRECISIONS,
    DecoderConfig,
    LatencyPreset,
    ModelConfig,
    ViewConfig,
    WindowConfig,
    config_from_dict,
    config_to_dict,
)
from .features import FeatureConfig
from .network import CNN_CONTEXT, CRGCN

FORMAT_VERSION = 1
SHIPPED_CHECKPOINT = Path(__file__).parent / "checkpoints" / "notestream.pt"


class CheckpointError(ValueError):
    """A checkpoint is missing, unreadable, from another format version, or inconsistent."""


@dataclass
class LoadedModel:
    """A network ready for inference with everything needed to feed it and decode its output."""

    model: CRGCN
    features: FeatureConfig
    window: WindowConfig
    decoder: DecoderConfig
    metadata: dict[str, Any] = field(default_factory=dict)
    views: ViewConfig = field(default_factory=ViewConfig)
    # decoders calibrated for other view sets at the same window, so `with_views` can switch without recalibrating
    alternatives: dict[tuple[int, ...], DecoderConfig] = field(default_factory=dict)
    compute_dtype: torch.dtype = torch.float32  # of the CNN and the GRU input projection (`resolve_precision`)
    latencies: dict[str, LatencyPreset] = field(default_factory=dict)  # named shorter windows (`with_latency`)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks CUDA when present, else CPU; 'cuda' without a GPU is an error a user can read."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CheckpointError("--device cuda was asked for but no CUDA GPU is available; use --device cpu")
    return torch.device(name)


def save_checkpoint(path: str | Path, loaded: LoadedModel) -> None:
    """Write atomically (temp file then rename) so an interrupted save never leaves a broken file."""
    model = loaded.model
    adjacency = getattr(model.head, "adjacency", None)
    payload = {
        "format_version": FORMAT_VERSION,
        "model_config": config_to_dict(model.config),
        "feature_config": loaded.features.to_dict(),
        "window": config_to_dict(loaded.window),
        "decoder": config_to_dict(loaded.decoder),
        "views": config_to_dict(loaded.views),
        "view_decoders": [{"views": list(views), "decoder": config_to_dict(decoder)}
                          for views, decoder in loaded.alternatives.items()],
        "latency_presets": {name: {"window": config_to_dict(p.window), "views": config_to_dict(p.views),
                                   "decoder": config_to_dict(p.decoder)} for name, p in loaded.latencies.items()},
        "adjacency": None if adjacency is None else adjacency.detach().cpu(),
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "metadata": loaded.metadata,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)


def resolve_precision(name: str, device: torch.device) -> torch.dtype:
    """The compute type of the CNN and the backward GRU's input projection (the big matrix products; the
    recurrences, heads and decoding stay float32). 'auto' is bfloat16 on CPUs with native bf16 units (AMX or
    AVX512-BF16), where the CNN runs about 2.5x faster with validation level, float32 elsewhere (CUDA too)."""
    if name not in PRECISIONS:
        raise CheckpointError(f"unknown precision {name!r}; expected one of {', '.join(PRECISIONS)}")
    if name == "auto":
        return torch.bfloat16 if device.type == "cpu" and cpu_has_native_bf16() else torch.float32
    return torch.bfloat16 if name == "bfloat16" else torch.float32


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AMX or AVX512-BF16); elsewhere bfloat16 is emulated, and slow."""
    checks = [getattr(torch.cpu, name, None) for name in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")]
    return any(check() for check in checks if check is not None)


def load_checkpoint(path: str | Path | None = None, device: str = "auto", expect_features: FeatureConfig | None = None,
                    precision: str = "auto") -> LoadedModel:
    """Load a checkpoint for inference (eval mode) on `device`, its CNN and GRU input projection computing in
    `precision` (see `resolve_precision`); the shipped model when `path` is None."""
    path = Path(path) if path is not None else SHIPPED_CHECKPOINT
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint there")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path}: not a readable notestream checkpoint ({exc})") from exc
    version = payload.get("format_version") if isinstance(payload, dict) else None
    if version != FORMAT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format {version!r}, this notestream reads format {FORMAT_VERSION}")
    features = config_from_dict(FeatureConfig, payload["feature_config"])
    if expect_features is not None and features != expect_features:
        raise CheckpointError(f"{path}: trained with features {features}, but {expect_features} were expected")
    config = config_from_dict(ModelConfig, payload["model_config"])
    adjacency = payload["adjacency"]
    model = CRGCN(config, features.n_mels, None if adjacency is None else np.asarray(adjacency))
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(f"{path}: weights do not fit the stored model config ({exc})") from exc
    target = resolve_device(device)
    compute_dtype = resolve_precision(precision, target)
    model.to(target).eval()
    return LoadedModel(
        model,
        features,
        config_from_dict(WindowConfig, payload["window"]),
        decoder_from_dict(payload["decoder"]),
        payload.get("metadata", {}),
        config_from_dict(ViewConfig, payload.get("views", {})),  # checkpoints before views: the audio alone
        {tuple(entry["views"]): decoder_from_dict(entry["decoder"]) for entry in payload.get("view_decoders", [])},
        compute_dtype,
        {name: LatencyPreset(config_from_dict(WindowConfig, p["window"]), config_from_dict(ViewConfig, p["views"]),
                             decoder_from_dict(p["decoder"])) for name, p in payload.get("latency_presets", {}).items()},
    )


def with_views(loaded: LoadedModel, semitones: tuple[int, ...]) -> LoadedModel:
    """The model hearing the audio through the view set `semitones`, with the decoder calibrated for that set
    (the checkpoint's own, or one of its alternatives); a set no decoder was calibrated for is refused."""
    semitones = ViewConfig(tuple(semitones)).semitones
    if semitones == loaded.views.semitones:
        return loaded
    decoders = {loaded.views.semitones: loaded.decoder, **loaded.alternatives}
    if semitones not in decoders:
        known = "; ".join(",".join(f"{s:+d}" for s in views) for views in decoders)
        raise CheckpointError(f"no decoder of this checkpoint is calibrated for views {semitones} (it has: {known}); "
                              "calibrate one with `notestream train --calibrate CKPT --views=...`")
    others = {views: decoder for views, decoder in decoders.items() if views != semitones}
    return replace(loaded, views=ViewConfig(semitones), decoder=decoders[semitones], alternatives=others)


def latency_names(loaded: LoadedModel) -> list[str]:
    """The operating points a checkpoint offers, fastest first, "accurate" (its own) last."""
    shortest = sorted(loaded.latencies, key=lambda n: _window_frames(loaded.latencies[n].window))
    return [*shortest, ACCURATE]


def with_latency(loaded: LoadedModel, name: str) -> LoadedModel:
    """The model at the named operating point: its window, views and calibrated decoder (`ACCURATE`: the
    checkpoint's own). An unknown name is refused with the names there are."""
    if name == ACCURATE:
        return loaded
    preset = loaded.latencies.get(name)
    if preset is None:
        raise CheckpointError(f"this checkpoint has no latency {name!r} (it has: {', '.join(latency_names(loaded))}); "
                              "calibrate one with `notestream calibrate CKPT --latency NAME --hop H --lookahead L`")
    return replace(loaded, window=preset.window, views=preset.views, decoder=preset.decoder, alternatives={})


def algorithmic_latency(features: FeatureConfig, window: WindowConfig, decoder: DecoderConfig | None = None) -> float:
    """Worst-case seconds of future audio a frame waits for: its block, the look-ahead, the CNN's context,
    the STFT window's future part (half of it for a Hann) and, given the decoder, the frames it holds back."""
    held = 0 if decoder is None else decoder.frames_ahead
    return (_window_frames(window) + held) / features.frame_rate + features.pad_after / features.sample_rate


def _window_frames(window: WindowConfig) -> int:
    return window.hop + window.lookahead + CNN_CONTEXT


def decoder_from_dict(data: dict) -> DecoderConfig:
    """Decoder thresholds; checkpoints saved before `offset_threshold` existed ended notes on offsets at
    the onset threshold, so that is what they keep."""
    return config_from_dict(DecoderConfig, {"offset_threshold": data["onset_threshold"], **data})
