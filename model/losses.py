"""Training losses: focal BCE with positive-class weighting for the key heads, masked velocity regression."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from notestream.notes import MIN_PITCH, N_KEYS

BASS_TOP_PITCH = 35  # MIDI 21-35, the register the accuracy bench reports as the bass
SOFT_VELOCITY = 48  # notes below it are the soft notes the accuracy bench reports (pp and p)


@dataclass(frozen=True)
class LossConfig:
    """Focal loss (Lin et al.) with class weighting, as the seed project used, per head."""

    focal_gamma: float = 2.0
    onset_pos_weight: float = 4.0
    frame_pos_weight: float = 2.0
    offset_pos_weight: float = 4.0
    onset_weight: float = 1.0
    frame_weight: float = 1.0
    offset_weight: float = 0.5
    velocity_weight: float = 1.0
    pedal_weight: float = 0.3
    bass_onset_weight: float = 1.0  # onset positives of MIDI 21 to bass_top_pitch count this many times more
    bass_top_pitch: int = BASS_TOP_PITCH  # the highest key the bass weight reaches
    soft_onset_weight: float = 1.0  # onset positives below velocity SOFT_VELOCITY count this many times more


def onset_pos_weights(config: LossConfig) -> torch.Tensor:
    """Per-key positive weight of the onset head, shape (88,): the bass keys' scaled by `bass_onset_weight`."""
    weights = torch.full((N_KEYS,), config.onset_pos_weight)
    weights[: config.bass_top_pitch - MIN_PITCH + 1] *= config.bass_onset_weight
    return weights


def onset_weights(config: LossConfig, velocity: torch.Tensor) -> torch.Tensor:
    """Positive weight of each onset label, shape like `velocity` (..., 88, velocity/127 at onsets): the per-key
    weights, times `soft_onset_weight` where the onset's velocity is below SOFT_VELOCITY (a missed soft note)."""
    soft = velocity < (SOFT_VELOCITY - 0.5) / 127.0
    return onset_pos_weights(config).to(velocity.device) * (1 + (config.soft_onset_weight - 1) * soft.float())


def focal_bce(logits: torch.Tensor, targets: torch.Tensor, gamma: float, pos_weight: float | torch.Tensor) -> torch.Tensor:
    """Binary focal loss; positives weighted by `pos_weight` (rare onsets otherwise vanish), a number or one per key."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    if gamma > 0:
        p = torch.sigmoid(logits)
        p_t = p * targets + (1 - p) * (1 - targets)
        # the floor keeps pow's gradient finite where a saturated sigmoid gives exactly 0 (gamma < 1)
        bce = bce * (1 - p_t).clamp_min(1e-6).pow(gamma)
    weights = 1 + (pos_weight - 1) * targets
    return (bce * weights).mean()


def transcription_loss(logits: dict[str, torch.Tensor], batch, config: LossConfig) -> dict[str, torch.Tensor]:
    """Per-head losses and their weighted total ('total')."""
    g = config.focal_gamma
    losses = {
        "onset": focal_bce(logits["onset"], batch.onset, g, onset_weights(config, batch.velocity)),
        "frame": focal_bce(logits["frame"], batch.frame, g, config.frame_pos_weight),
        "offset": focal_bce(logits["offset"], batch.offset, g, config.offset_pos_weight),
        "pedal": F.binary_cross_entropy_with_logits(logits["pedal"], batch.pedal),
    }
    mask = batch.onset
    velocity_error = (torch.sigmoid(logits["velocity"]) - batch.velocity).pow(2) * mask
    losses["velocity"] = velocity_error.sum() / mask.sum().clamp(min=1.0)
    weights = {"onset": config.onset_weight, "frame": config.frame_weight, "offset": config.offset_weight,
               "velocity": config.velocity_weight, "pedal": config.pedal_weight}
    losses["total"] = sum(weights[k] * losses[k] for k in weights)
    return losses
