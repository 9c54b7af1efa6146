"""The CR-GCN network: CNN over log-mel frames, a GRU with bounded look-ahead, GCN classifier heads."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from notestream.notes import N_KEYS

from .config import ModelConfig, WindowConfig
from .gcn import GCNClassifierHead, LinearClassifierHead

HEADS = ("onset", "frame", "offset", "velocity")
CNN_CONTEXT = 3  # frames of context each side that the three 3x3 convolutions see


class ConvFrontEnd(nn.Module):
    """Onsets-and-Frames style acoustic CNN: (batch, time, mels) -> (batch, time, fc).

    Pools frequency after the first layer (O&F pools after the second): half the cost on a CPU.
    """

    def __init__(self, n_mels: int, channels: tuple[int, int, int], fc: int, dropout: float):
        super().__init__()
        c1, c2, c3 = channels
        self.stack = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.MaxPool2d((1, 2)),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(),
            nn.MaxPool2d((1, 2)), nn.Dropout(dropout),
        )
        self.fc = nn.Sequential(nn.Linear(c3 * (n_mels // 4), fc), nn.Dropout(dropout))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        x = self.stack(mel.unsqueeze(1))  # (b, c, t, f)
        return self.fc(x.transpose(1, 2).flatten(-2))


def look_ahead_windows(x: torch.Tensor, n_blocks: int, window: WindowConfig) -> torch.Tensor:
    """Cut (batch, time, dim) into `n_blocks` blocks of `hop` frames, each with `lookahead` future frames.

    Returns (batch, blocks, hop + lookahead, dim); frames past x's end are zeros.
    """
    b, t, d = x.shape
    span = window.hop + window.lookahead
    need = (n_blocks - 1) * window.hop + span
    padded = nn.functional.pad(x[:, :need], (0, 0, 0, max(0, need - t)))
    return padded.unfold(1, span, window.hop)[:, :n_blocks].permute(0, 1, 3, 2)


class BoundedBiGRU(nn.Module):
    """A bidirectional GRU whose backward half sees at most `hop + lookahead` frames of the future.

    The forward GRU runs over the whole sequence carrying its state (causal). The backward GRU runs
    over each block and its look-ahead, reversed, so block outputs depend only on bounded future
    audio and streaming reproduces offline exactly.
    """

    def __init__(self, input_size: int, hidden: int):
        super().__init__()
        self.forward_rnn = nn.GRU(input_size, hidden, batch_first=True)
        self.backward_rnn = nn.GRU(input_size, hidden, batch_first=True)

    def forward_direction(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.forward_rnn(x, state)

    def backward_direction(self, x: torch.Tensor, n_blocks: int, window: WindowConfig) -> torch.Tensor:
        """Backward outputs for `n_blocks` blocks of `hop` frames starting at x's first frame.

        Block j runs over x[j*hop : j*hop + hop + lookahead], cut short where x ends (end of stream).
        Returns (batch, min(n_blocks * hop, len(x)), hidden).
        """
        b, t, _ = x.shape
        blocks, lengths = block_inputs(x, n_blocks, window)
        out = self.run_blocks(blocks, lengths, window.hop)
        out = out.reshape(b, n_blocks * window.hop, -1)
        return out[:, : min(t, n_blocks * window.hop)]

    def run_blocks(self, blocks: torch.Tensor, lengths: torch.Tensor, hop: int) -> torch.Tensor:
        """The backward GRU over independent blocks (n, span, dim) with valid `lengths`: (n, hop, hidden).

        Blocks of any streams can share one call: each is a sequence of its own.
        """
        out, _ = self.backward_rnn(reverse_valid(blocks, lengths))
        return reverse_valid(out, lengths)[:, :hop]


def block_inputs(x: torch.Tensor, n_blocks: int, window: WindowConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """x (batch, time, dim) cut into (batch * n_blocks, hop + lookahead, dim) blocks, batch-major, and the
    number of real frames in each (blocks are cut short where x ends)."""
    b, t, d = x.shape
    span = window.hop + window.lookahead
    lengths = torch.clamp(t - torch.arange(n_blocks, device=x.device) * window.hop, max=span).repeat(b)
    return look_ahead_windows(x, n_blocks, window).reshape(b * n_blocks, span, d), lengths


def reverse_valid(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Reverse each sequence's first `lengths[i]` frames in place, leaving padding at the end."""
    t = x.shape[1]
    idx = torch.arange(t, device=x.device).unsqueeze(0).expand(x.shape[0], t)
    rev = lengths.unsqueeze(1) - 1 - idx
    rev = torch.where(rev >= 0, rev, idx)
    return x.gather(1, rev.unsqueeze(-1).expand_as(x))


class CRGCN(nn.Module):
    """CNN -> FC -> bounded bidirectional GRU -> GCN (or linear) heads for onset/frame/offset/velocity, plus pedal."""

    def __init__(self, config: ModelConfig, n_mels: int, adjacency: np.ndarray | None = None):
        super().__init__()
        self.config = config
        self.cnn = ConvFrontEnd(n_mels, config.cnn_channels, config.cnn_fc, config.dropout)
        self.rnn = BoundedBiGRU(config.cnn_fc, config.rnn_hidden)
        if config.label_head == "gcn":
            adj = adjacency if adjacency is not None else np.eye(N_KEYS, dtype=np.float32)
            self.head = GCNClassifierHead(adj, config.embedding, len(HEADS), config.gcn_hidden, config.gcn_residual)
        elif config.label_head == "linear":
            self.head = LinearClassifierHead(config.embedding, len(HEADS))
        else:
            raise ValueError(f"unknown label_head {config.label_head!r}; expected 'gcn' or 'linear'")
        self.pedal = nn.Linear(config.embedding, 1)

    def heads(self, embedding: torch.Tensor) -> dict[str, torch.Tensor]:
        """(batch, time, embedding) -> logits per head: (batch, time, 88), pedal (batch, time)."""
        logits = self.head(embedding)
        out = {name: logits[i] for i, name in enumerate(HEADS)}
        out["pedal"] = self.pedal(embedding).squeeze(-1)
        return out

    def forward(self, mel: torch.Tensor, window: WindowConfig) -> dict[str, torch.Tensor]:
        """Whole sequences (batch, time, mels) -> logits, with the same bounded look-ahead as streaming."""
        features = self.cnn(mel)
        fwd, _ = self.rnn.forward_direction(features)
        n_blocks = -(-features.shape[1] // window.hop)
        bwd = self.rnn.backward_direction(features, n_blocks, window)
        return self.heads(torch.cat([fwd, bwd], dim=-1))
