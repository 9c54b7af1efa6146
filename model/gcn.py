"""The label graph of the 88 keys and the GCN that turns key embeddings into frame classifiers."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from notestream.notes import N_KEYS


def cooccurrence_counts(frame_rolls: list[np.ndarray]) -> np.ndarray:
    """C[i, j] = number of frames in which keys i and j both sound (C[i, i]: frames key i sounds)."""
    counts = np.zeros((N_KEYS, N_KEYS), dtype=np.float64)
    for roll in frame_rolls:
        active = roll.astype(np.float64)
        counts += active.T @ active
    return counts


def normalized_adjacency(counts: np.ndarray, tau: float, reweight: float = 0.0) -> np.ndarray:
    """CR-GCN adjacency: A_ij = [P(j|i) >= tau] off the diagonal, then D^-1/2 (A + I) D^-1/2.

    With `reweight` p > 0 (ML-GCN, Chen et al. 2019) each key keeps weight 1 - p on itself and its
    neighbours share p equally, so a dense graph cannot smooth co-occurring keys into one classifier.
    """
    occurrences = np.diag(counts).copy()
    conditional = counts / np.maximum(occurrences[:, None], 1.0)
    binary = (conditional >= tau).astype(np.float64)
    np.fill_diagonal(binary, 0.0)
    return normalize_graph(binary, reweight)


HARMONIC_INTERVALS = (12, 19, 24, 28, 31)  # semitones from a fundamental to its partials 2..6


def harmonic_edges(intervals: tuple[int, ...] = HARMONIC_INTERVALS) -> np.ndarray:
    """Binary symmetric (88, 88) graph of confusable keys: i ~ j when j lies `interval` semitones above or below i.

    A key's partials land on these keys, so they are the ones a transcriber mistakes for each other.
    """
    binary = np.zeros((N_KEYS, N_KEYS), dtype=np.float64)
    for interval in intervals:
        upper = np.arange(N_KEYS - interval)
        binary[upper, upper + interval] = binary[upper + interval, upper] = 1.0
    return binary


def harmonic_adjacency(reweight: float = 0.0, intervals: tuple[int, ...] = HARMONIC_INTERVALS) -> np.ndarray:
    """The harmonic graph (`harmonic_edges`) normalised like the co-occurrence one."""
    return normalize_graph(harmonic_edges(intervals), reweight)


def normalize_graph(binary: np.ndarray, reweight: float = 0.0) -> np.ndarray:
    """D^-1/2 (A + I) D^-1/2 of a binary graph without self-loops, or ML-GCN re-weighting with p = `reweight`."""
    if reweight > 0:
        degree = binary.sum(axis=1, keepdims=True)
        shared = np.where(degree > 0, reweight * binary / np.maximum(degree, 1.0), 0.0)
        return (shared + np.diag(np.where(degree[:, 0] > 0, 1.0 - reweight, 1.0))).astype(np.float32)
    with_self = binary + np.eye(N_KEYS)
    inv_sqrt = 1.0 / np.sqrt(with_self.sum(axis=1))
    return (with_self * inv_sqrt[:, None] * inv_sqrt[None, :]).astype(np.float32)


class GraphConvolution(nn.Module):
    """One GCN layer: H' = Â H W."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, nodes: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        return adjacency @ (nodes @ self.weight)


class GCNClassifierHead(nn.Module):
    """Three GCN layers over one-hot key nodes; the output (88 x heads*dim) is the classifier of each head.

    logits[head][t, k] = x[t] . W_head[k] + b_head[k]: every key's classifier is shaped by the keys
    it is linked to. With `residual`, W = free per-key classifiers (a linear head's) + the GCN output,
    whose last layer starts at zero: the graph can only add to what a linear head learns.
    """

    def __init__(self, adjacency: np.ndarray, embedding: int, n_heads: int, hidden: tuple[int, ...],
                 residual: bool = False):
        super().__init__()
        self.register_buffer("adjacency", torch.as_tensor(adjacency, dtype=torch.float32))
        sizes = [N_KEYS, *hidden, embedding * n_heads]
        self.layers = nn.ModuleList(GraphConvolution(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))
        self.bias = nn.Parameter(torch.zeros(n_heads, N_KEYS))
        self.n_heads, self.embedding = n_heads, embedding
        self.activation = nn.LeakyReLU(0.2)
        if residual:
            bound = 1.0 / embedding**0.5  # nn.Linear's default initialisation
            self.free = nn.Parameter(torch.empty(n_heads, N_KEYS, embedding).uniform_(-bound, bound))
            nn.init.zeros_(self.layers[-1].weight)
        else:
            self.free = None

    def classifiers(self) -> torch.Tensor:
        """(heads, 88, embedding) classifier weights."""
        nodes = torch.eye(N_KEYS, device=self.adjacency.device)
        for i, layer in enumerate(self.layers):
            nodes = layer(nodes, self.adjacency)
            if i < len(self.layers) - 1:
                nodes = self.activation(nodes)
        weights = nodes.view(N_KEYS, self.n_heads, self.embedding).transpose(0, 1)
        return weights if self.free is None else self.free + weights

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x (batch, time, embedding) -> logits (heads, batch, time, 88)."""
        weights = self.classifiers()
        return torch.einsum("bte,hke->hbtk", x, weights) + self.bias[:, None, None, :]


class LinearClassifierHead(nn.Module):
    """The ablation: independent linear classifiers per head, no label graph."""

    def __init__(self, embedding: int, n_heads: int):
        super().__init__()
        self.linear = nn.Linear(embedding, n_heads * N_KEYS)
        self.n_heads = n_heads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x)
        return out.view(*x.shape[:2], self.n_heads, N_KEYS).permute(2, 0, 1, 3)
