"""Training losses: focal BCE with positive-class weighting for the key heads, masked velocity regression."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from notestream.notes import MIN_PITCH, N_KEYS

BASS_TOP_PITCH = 35  # MIDI 21-35, the register the accuracy bench reports as the bass


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
    bass_onset_weight: float = 1.0  # onset positives of MIDI 21-35 count this many times more (quiet bass onsets)


def onset_pos_weights(config: LossConfig) -> torch.Tensor:
    """Per-key positive weight of the onset head, shape (88,): the bass keys' scaled by `bass_onset_weight`."""
    weights = torch.full((N_KEYS,), config.onset_pos_weight)
    weights[: BASS_TOP_PITCH - MIN_PITCH + 1] *= config.bass_onset_weight
    return weights


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
        "onset": focal_bce(logits["onset"], batch.onset, g, onset_pos_weights(config).to(logits["onset"].device)),
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
