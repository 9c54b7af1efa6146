"""Small random-weight models for tests that check structure (not accuracy)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from notestream.model.checkpoint import LoadedModel
from notestream.model.config import DecoderConfig, ModelConfig, WindowConfig
from notestream.model.features import FeatureConfig
from notestream.model.network import CRGCN

DEFAULT_WINDOW = WindowConfig(4, 6)
SMALL = ModelConfig(cnn_channels=(4, 4, 8), cnn_fc=32, rnn_hidden=16, gcn_hidden=(16,))


def small_model(window: WindowConfig = DEFAULT_WINDOW, label_head: str = "gcn", seed: int = 0,
                adjacency: np.ndarray | None = None, **config: Any) -> LoadedModel:
    """A tiny random CR-GCN in eval mode with the default features and low decoder thresholds.

    `config` overrides fields of the small ModelConfig (e.g. gcn_residual=True).
    """
    torch.manual_seed(seed)
    model_config = ModelConfig(**{**SMALL.__dict__, "label_head": label_head, **config})
    model = CRGCN(model_config, FeatureConfig().n_mels, adjacency).eval()
    return LoadedModel(model, FeatureConfig(), window, DecoderConfig(0.3, 0.3), {"name": "test"})
