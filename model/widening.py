"""Function-preserving widening (Net2WiderNet, Chen, Goodfellow & Shlens 2016) of a trained CR-GCN.

A wider network (more CNN channels, a larger CNN fully connected layer and GRU) starts computing exactly
what the trained narrow one computes, so training it continues from the narrow one's accuracy with more capacity
instead of from scratch. Each new unit copies an old unit's incoming weights; each old unit's outgoing
weights are split among its copies in random proportions that sum to one (a convolution channel's copy
also copies its batch-norm parameters and statistics, so copies normalise alike). The outputs are unchanged,
and copies see different gradients, so they drift apart as training goes on.
"""

from __future__ import annotations

from dataclasses import replace

import torch

from .config import ModelConfig

GRU_GATES = 3
WIDENED = ("cnn_channels", "cnn_fc", "rnn_hidden")
CONV_LAYERS = (("cnn.stack.0.", "cnn.stack.1."), ("cnn.stack.4.", "cnn.stack.5."), ("cnn.stack.7.", "cnn.stack.8."))
BATCH_NORM = ("weight", "bias", "running_mean", "running_var")
SHAPELESS = ("adjacency_tau", "adjacency_reweight", "label_graph", "dropout")  # no weight depends on these


def widening_error(old: ModelConfig, new: ModelConfig) -> str | None:
    """Why `old` cannot be widened to `new`, or None when it can."""
    if replace(old, **{name: getattr(new, name) for name in (*WIDENED, *SHAPELESS)}) != new:
        return f"only {' and '.join(WIDENED)} may grow; the other sizes and the head's kind must match"
    for name in WIDENED:
        a, b = getattr(old, name), getattr(new, name)
        if any(n < o or n % o for o, n in zip(_sizes(a), _sizes(b), strict=True)):
            return f"{name} {b} is not a multiple of {a}"
    return None


def sizes_differ(old: ModelConfig, new: ModelConfig) -> bool:
    """Whether any of the sizes that widening may grow differ between `old` and `new`."""
    return any(_sizes(getattr(old, name)) != _sizes(getattr(new, name)) for name in WIDENED)


def _sizes(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


def widen_state_dict(state: dict[str, torch.Tensor], old: ModelConfig, new: ModelConfig,
                     generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """The weights of `old` widened to the sizes of `new` (see the module docstring)."""
    error = widening_error(old, new)
    if error:
        raise ValueError(f"cannot widen the network: {error}")
    fc = copy_map(old.cnn_fc, new.cnn_fc)
    hidden = copy_map(old.rnn_hidden, new.rnn_hidden)
    embedding = torch.cat([hidden, hidden + old.rnn_hidden])  # [forward GRU, backward GRU]
    out = dict(state)
    channels = torch.zeros(1, dtype=torch.long)  # the spectrogram's one channel
    for (conv, norm), n_old, n_new in zip(CONV_LAYERS, old.cnn_channels, new.cnn_channels, strict=True):
        inputs, channels = channels, copy_map(n_old, n_new)
        out.update(_widen_conv(state, conv, norm, inputs, channels, generator))
    bands = state["cnn.fc.0.weight"].shape[1] // old.cnn_channels[-1]
    flat = (channels[:, None] * bands + torch.arange(bands)).flatten()  # the FC reads (channel, mel band) flattened
    out["cnn.fc.0.weight"] = split_columns(state["cnn.fc.0.weight"][fc], flat, generator)
    out["cnn.fc.0.bias"] = state["cnn.fc.0.bias"][fc]
    gate_rows = torch.cat([hidden + g * old.rnn_hidden for g in range(GRU_GATES)])
    for direction in ("forward_rnn", "backward_rnn"):
        prefix = f"rnn.{direction}."
        out[prefix + "weight_ih_l0"] = split_columns(state[prefix + "weight_ih_l0"][gate_rows], fc, generator)
        out[prefix + "weight_hh_l0"] = split_columns(state[prefix + "weight_hh_l0"][gate_rows], hidden, generator)
        for bias in ("bias_ih_l0", "bias_hh_l0"):
            out[prefix + bias] = state[prefix + bias][gate_rows]
    out["pedal.weight"] = split_columns(state["pedal.weight"], embedding, generator)
    out.update(_widen_head(state, old, embedding, generator))
    return out


def _widen_conv(state: dict[str, torch.Tensor], conv: str, norm: str, inputs: torch.Tensor, outputs: torch.Tensor,
                generator: torch.Generator | None) -> dict[str, torch.Tensor]:
    """A convolution and its batch norm with output channels copied by `outputs` and input weights split by `inputs`."""
    weight = state[conv + "weight"][outputs].permute(0, 2, 3, 1)  # (out, kh, kw, in): split along the inputs
    widened = {conv + "weight": split_columns(weight, inputs, generator).permute(0, 3, 1, 2).contiguous(),
               conv + "bias": state[conv + "bias"][outputs]}
    widened.update({norm + name: state[norm + name][outputs] for name in BATCH_NORM})
    return widened


def _widen_head(state: dict[str, torch.Tensor], old: ModelConfig, embedding: torch.Tensor,
                generator: torch.Generator | None) -> dict[str, torch.Tensor]:
    """The label head's classifiers, whose inputs are the widened embedding."""
    if old.label_head == "linear":
        return {"head.linear.weight": split_columns(state["head.linear.weight"], embedding, generator)}
    last = f"head.layers.{len(old.gcn_hidden)}.weight"
    weight = state[last]
    heads = weight.shape[1] // old.embedding
    # The GCN's last layer outputs the classifiers: (hidden, heads * embedding). A split fraction per
    # (head, embedding unit) column keeps every key's classifier a linear function of the old one.
    per_head = weight.reshape(weight.shape[0], heads, old.embedding).transpose(0, 1)  # (heads, hidden, emb)
    fractions = split_fractions((heads, 1, len(embedding)), embedding, generator)
    widened = {last: (per_head[..., embedding] * fractions).transpose(0, 1).reshape(weight.shape[0], -1)}
    if "head.free" in state:
        widened["head.free"] = split_columns(state["head.free"], embedding, generator)
    return widened


def copy_map(old: int, new: int) -> torch.Tensor:
    """Which old unit each of `new` units copies: unit u copies u mod old (the first `old` are the originals)."""
    return torch.arange(new) % old


def split_columns(weight: torch.Tensor, sources: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """`weight`'s last axis (inputs from old units) re-indexed by `sources`, each old unit's weight shared
    among its copies in random proportions (per row) that sum to one."""
    fractions = split_fractions((*weight.shape[:-1], len(sources)), sources, generator)
    return weight[..., sources] * fractions


def split_fractions(shape: tuple[int, ...], sources: torch.Tensor, generator: torch.Generator | None,
                    spread: float = 0.5) -> torch.Tensor:
    """Positive random fractions of `shape` whose sum over the copies of each source unit is one."""
    draws = 1.0 + spread * (2 * torch.rand(shape, generator=generator) - 1)
    n_old = int(sources.max()) + 1
    totals = torch.zeros((*shape[:-1], n_old)).index_add_(-1, sources, draws)
    return draws / totals[..., sources]
