"""Weight averaging of checkpoints from one training basin (SWA, Izmailov et al. 2018; model soups,
Wortsman et al. 2022): the mean of weights that one run and its continuations pass through often
generalises better than any of them, and it costs no training."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import torch

from .checkpoint import LoadedModel, load_checkpoint, save_checkpoint
from .config import config_to_dict


def average_state_dicts(states: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Uniform mean of floating-point tensors (batch-norm statistics included); integer counters are
    taken from the first state. All states must have the same keys and shapes."""
    if not states:
        raise ValueError("nothing to average")
    keys = set(states[0])
    for i, state in enumerate(states[1:], start=1):
        if set(state) != keys:
            raise ValueError(f"state {i} has different parameters from state 0")
    averaged = {}
    for key, first in states[0].items():
        if any(state[key].shape != first.shape for state in states):
            raise ValueError(f"{key}: shapes differ between the states")
        if first.is_floating_point():
            averaged[key] = torch.stack([state[key].float() for state in states]).mean(0).to(first.dtype)
        else:
            averaged[key] = first.clone()
    return averaged


def average_models(models: Sequence[LoadedModel]) -> LoadedModel:
    """A model whose weights are the mean of `models`' weights; configs must agree exactly, and the first
    model's feature, window and decoder settings are kept (calibrate the decoder again afterwards)."""
    first = models[0]
    for i, other in enumerate(models[1:], start=1):
        if config_to_dict(other.model.config) != config_to_dict(first.model.config) or other.features != first.features:
            raise ValueError(f"model {i} has a different network or feature config from model 0")
    state = average_state_dicts([m.model.state_dict() for m in models])
    averaged = copy.deepcopy(first)
    averaged.model.load_state_dict(state)
    return averaged


def average_checkpoints(paths: Sequence[Path], out: Path) -> Path:
    """Write the mean of the checkpoints' weights to `out` (the first one's decoder: calibrate it after)."""
    averaged = average_models([load_checkpoint(path, device="cpu") for path in paths])
    averaged.metadata = {**averaged.metadata, "name": out.parent.name, "averaged_from": [str(p) for p in paths]}
    save_checkpoint(out, averaged)
    return out
