"""The network run incrementally on mel frames as they arrive, for one stream or many at once.

`advance_networks` advances several streams of one model with a single CNN, forward-GRU, backward-GRU
and head pass between them (what a server with many live sessions wants); a lone stream is the
case of one. Either way every stream gets exactly what one whole-sequence pass over its audio gives.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .activations import Activations
from .checkpoint import LoadedModel
from .config import WindowConfig
from .network import CNN_CONTEXT, CRGCN, BoundedBiGRU, ConvFrontEnd, block_inputs, reverse_valid

CNN_TILE_FRAMES = 128  # CPU CNN tile: 5 views' widest maps stay ~9 MB in bfloat16 (see `cnn_features`)


def padded_size(n: int) -> int:
    """The smallest of 1, 2, 3, 4, 6, 8, 12, 16, 24, ... (powers of two and 1.5 times them) that is >= n.

    Live rounds pad their batches to these sizes: oneDNN builds (and caches, with reordered weights) a
    kernel for every input shape, and rounds of every size of batch and frame count made hundreds of them,
    more than its cache holds: memory grew and kernels were rebuilt. Padding wastes at most a third.
    """
    if n <= 2:
        return max(1, n)
    power = 1 << (n - 1).bit_length() - 1
    return power + power // 2 if n <= power + power // 2 else 2 * power


@dataclass
class _CnnJob:
    """Mel frames for the CNN and the slice of its output that is new and exact."""

    segment: torch.Tensor  # (frames, n_mels)
    keep: slice
    exact_end: bool  # the segment ends the stream: its last frames need the CNN's own edge padding


class IncrementalNetwork:
    """One stream's network state: mel context for the CNN, the forward GRU's state, frames awaiting look-ahead.

    The CNN is evaluated with 3 frames of context on each side, the forward GRU carries its state,
    and the backward GRU runs block by block once a block's look-ahead has arrived.
    """

    def __init__(self, loaded: LoadedModel, window: WindowConfig):
        self.model, self.window, self.device = loaded.model, window, loaded.device
        self.compute_dtype = loaded.compute_dtype
        cfg = loaded.model.config
        self._mel = torch.zeros(0, loaded.features.n_mels)
        self._mel_start = 0  # absolute index of self._mel[0]
        self._n_features = 0
        self._features = torch.zeros(1, 0, cfg.cnn_fc, device=self.device)
        self._forward_out = torch.zeros(1, 0, cfg.rnn_hidden, device=self.device)
        self._state: torch.Tensor | None = None

    def push(self, mel: torch.Tensor, final: bool = False) -> Activations:
        """Add mel frames (n, n_mels); return activations for every frame now decided."""
        return advance_networks([self], [mel], [final])[0]

    def _cnn_job(self, mel: torch.Tensor, final: bool) -> _CnnJob | None:
        """Take new mel frames; return the CNN work that decides new features (None: not enough context yet)."""
        self._mel = torch.cat([self._mel, mel.cpu()])
        total = self._mel_start + self._mel.shape[0]
        upto = total if final else total - CNN_CONTEXT
        if upto <= self._n_features:
            return None
        lo = max(0, self._n_features - CNN_CONTEXT)
        stop = total if final else upto + CNN_CONTEXT
        job = _CnnJob(self._mel[lo - self._mel_start: stop - self._mel_start], slice(self._n_features - lo, upto - lo), final)
        self._n_features = upto
        keep_from = max(0, upto - CNN_CONTEXT)
        self._mel = self._mel[keep_from - self._mel_start:]
        self._mel_start = keep_from
        return job

    def _ready_blocks(self, final: bool) -> int:
        hop, pending = self.window.hop, self._features.shape[1]
        return -(-pending // hop) if final else max(0, (pending - self.window.lookahead) // hop)


@torch.inference_mode()
def advance_networks(networks: list[IncrementalNetwork], mels: list[torch.Tensor], finals: list[bool],
                     views: int = 1) -> list[Activations]:
    """Advance streams of one model together: add each stream's mel frames, return each one's decided activations.

    `views`: networks per audio stream (its pitch views); the CNN batch is padded in whole streams of them."""
    model = networks[0].model
    if any(n.model is not model or n.window != networks[0].window or n.compute_dtype != networks[0].compute_dtype for n in networks):
        raise ValueError("streams batched together must share one model, window (hop and look-ahead) and precision")
    jobs = [n._cnn_job(mel, final) for n, mel, final in zip(networks, mels, finals, strict=True)]
    active = [(n, job) for n, job in zip(networks, jobs, strict=True) if job is not None]
    if active:
        features = _run_cnn(model.cnn, [job for _, job in active], networks[0].device, networks[0].compute_dtype, views)
        _run_forward_gru(model, [n for n, _ in active], features)
    return _run_backward_and_heads(model, networks, finals)


def _run_cnn(cnn: ConvFrontEnd, jobs: list[_CnnJob], device: torch.device, dtype: torch.dtype,
             views: int = 1) -> list[torch.Tensor]:
    """CNN features (1, n, fc) for each job; jobs not ending their stream share one zero-padded batch.

    Right padding never reaches a kept frame of those jobs (their segment carries CNN_CONTEXT frames past
    the last kept one); a job ending its stream runs alone so its edge sees the CNN's own padding.
    """
    out: list[torch.Tensor | None] = [None] * len(jobs)
    batched = [i for i, job in enumerate(jobs) if not job.exact_end]
    if batched:
        longest = max(jobs[i].segment.shape[0] for i in batched)
        if longest <= CNN_TILE_FRAMES + 2 * CNN_CONTEXT:  # one tile: round its length too (see `padded_size`)
            longest = min(padded_size(longest), CNN_TILE_FRAMES + 2 * CNN_CONTEXT)
        rows = views * padded_size(-(-len(batched) // views))  # whole streams: one stream's views are never padded
        padded = torch.zeros(rows, longest, jobs[batched[0]].segment.shape[1])
        for row, i in enumerate(batched):
            padded[row, : jobs[i].segment.shape[0]] = jobs[i].segment
        features = cnn_features(cnn, padded.to(device), dtype)
        for row, i in enumerate(batched):
            out[i] = features[row: row + 1, jobs[i].keep]
    for i, job in enumerate(jobs):
        if job.exact_end:
            out[i] = cnn_features(cnn, job.segment.unsqueeze(0).to(device), dtype)[:, job.keep]
    return out


def _run_forward_gru(model: CRGCN, networks: list[IncrementalNetwork], features: list[torch.Tensor]) -> None:
    """One forward-GRU call for all streams (packed by length), each continuing from its own state."""
    hidden = model.config.rnn_hidden
    device = features[0].device
    states = torch.cat([n._state if n._state is not None else torch.zeros(1, 1, hidden, device=device)
                        for n in networks], dim=1)
    packed = nn.utils.rnn.pack_sequence([f[0] for f in features], enforce_sorted=False)
    with one_thread():
        out, last = model.rnn.forward_rnn(packed, states)
    out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    for i, (net, feat) in enumerate(zip(networks, features, strict=True)):
        net._state = last[:, i: i + 1].contiguous()
        net._features = torch.cat([net._features, feat], dim=1)
        net._forward_out = torch.cat([net._forward_out, out[i: i + 1, : feat.shape[1]]], dim=1)


@contextmanager
def one_thread():
    """Torch on one thread for a recurrence: each step's work is too small to share, and with two threads every
    step waits for both; while another program held one of two cores, a 5 s chunk's forward GRU took 0.7-2.5 s
    on two threads and 0.02 s on one."""
    threads = torch.get_num_threads()
    if threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _run_backward_and_heads(model: CRGCN, networks: list[IncrementalNetwork], finals: list[bool]) -> list[Activations]:
    """Run every block whose look-ahead has arrived, of all streams, through one backward-GRU and one head call."""
    spans = [net._ready_blocks(final) for net, final in zip(networks, finals, strict=True)]
    window = networks[0].window
    inputs = [net._features[:, : n * window.hop + window.lookahead] for net, n in zip(networks, spans, strict=True) if n]
    if not inputs:
        return [empty_activations() for _ in networks]
    hop, moving = window.hop, [n for n in spans if n]
    if networks[0].device.type == "cpu":
        backward = cpu_backward_blocks(model.rnn, inputs, moving, window, networks[0].compute_dtype)
    else:
        blocks, lengths = zip(*(block_inputs(x, n, window) for x, n in zip(inputs, moving, strict=True)), strict=True)
        backward = model.rnn.run_blocks(torch.cat(blocks), torch.cat(lengths), hop)
    backward = backward.split(moving)
    embeddings, sizes = [], []
    ready = iter(backward)
    for net, n_blocks in zip(networks, spans, strict=True):
        if not n_blocks:
            sizes.append(0)
            continue
        back = next(ready).reshape(1, n_blocks * hop, -1)[:, : net._features.shape[1]]
        n_out = back.shape[1]
        embeddings.append(torch.cat([net._forward_out[:, :n_out], back], dim=-1))
        net._features, net._forward_out = net._features[:, n_out:], net._forward_out[:, n_out:]
        sizes.append(n_out)
    logits = model.heads(torch.cat(embeddings, dim=1))
    probs = {k: torch.sigmoid(v[0]).float().cpu().numpy() for k, v in logits.items()}
    return _split_activations(probs, sizes)


def cpu_backward_blocks(rnn: BoundedBiGRU, inputs: list[torch.Tensor], n_blocks: list[int], window: WindowConfig,
                        dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """`rnn.run_blocks` over the blocks of several streams' features (1, t, dim), to float rounding, faster on a
    CPU: the input projection runs once per frame (blocks overlap by the look-ahead), in `dtype` (bfloat16:
    the fast matrix units), and the recurrence of the short blocks is stepped here in float32."""
    gru = rnn.backward_rnn
    frames = torch.cat(inputs, dim=1)
    rows = nn.functional.pad(frames, (0, 0, 0, padded_size(frames.shape[1]) - frames.shape[1]))  # see `padded_size`
    with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        projected = nn.functional.linear(rows, gru.weight_ih_l0, gru.bias_ih_l0).float()[:, : frames.shape[1]]
    parts = projected.split([x.shape[1] for x in inputs], dim=1)
    blocks, lengths = zip(*(block_inputs(p, n, window) for p, n in zip(parts, n_blocks, strict=True)), strict=True)
    lengths = torch.cat(lengths)
    gates_in = reverse_valid(torch.cat(blocks), lengths)  # (blocks, span, 3 * hidden), each block's end first
    h = gates_in.new_zeros(gates_in.shape[0], gru.hidden_size)
    outputs = []
    for step in range(gates_in.shape[1]):
        in_r, in_z, in_n = gates_in[:, step].chunk(3, dim=1)
        h_r, h_z, h_n = torch.addmm(gru.bias_hh_l0, h, gru.weight_hh_l0.t()).chunk(3, dim=1)
        reset, update = torch.sigmoid(in_r + h_r), torch.sigmoid(in_z + h_z)
        candidate = torch.tanh(in_n + reset * h_n)
        h = candidate + update * (h - candidate)
        outputs.append(h)
    return reverse_valid(torch.stack(outputs, dim=1), lengths)[:, : window.hop]


def _split_activations(probs: dict[str, np.ndarray], sizes: list[int]) -> list[Activations]:
    bounds = np.cumsum([0, *sizes])
    return [Activations(*(probs[k][lo:hi] for k in ("onset", "frame", "offset", "velocity", "pedal")))
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def cnn_features(cnn: ConvFrontEnd, mel: torch.Tensor, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """`cnn(mel)` in eval mode, to float rounding (about 1e-6), with CPU shortcuts: each convolution's batch norm
    folded into its weights, channels-last tensors (the CPU convolution kernels' fast layout), frequency pairs
    pooled as the max of two strided views before the ReLU (the same maximum, on half the values), the FC
    weights reordered to read the channels-last maps as they lie in memory (no transpose copy), and long inputs
    cut into tiles of `CNN_TILE_FRAMES` (each with the CNN's context), so the feature maps stay small enough
    for the allocator to reuse instead of mapping fresh pages each time.

    With `dtype` bfloat16 the convolutions and the FC compute in bfloat16 (autocast) and return float32.
    The folded weights are kept with the CNN and remade whenever a weight or statistic changes (training).
    """
    if mel.device.type != "cpu":
        with torch.autocast(mel.device.type, dtype=dtype, enabled=dtype != torch.float32):
            return cnn(mel).float()
    frames = mel.shape[1]
    if frames <= CNN_TILE_FRAMES + 2 * CNN_CONTEXT:
        return _cpu_cnn_features(cnn, mel, dtype)
    tiles = []
    for start in range(0, frames, CNN_TILE_FRAMES):
        lo, hi = max(0, start - CNN_CONTEXT), min(frames, start + CNN_TILE_FRAMES + CNN_CONTEXT)
        tile = _cpu_cnn_features(cnn, mel[:, lo:hi], dtype)
        tiles.append(tile[:, start - lo: start - lo + min(CNN_TILE_FRAMES, frames - start)])
    return torch.cat(tiles, dim=1)


def _cpu_cnn_features(cnn: ConvFrontEnd, mel: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    steps, fc = _inference_steps(cnn)
    with torch.autocast("cpu", dtype=dtype, enabled=dtype != torch.float32):
        x = mel.unsqueeze(1).contiguous(memory_format=torch.channels_last)
        for step in steps:
            x = step(x)
        return fc(x.permute(0, 2, 3, 1).flatten(-2)).float()  # (b, t, f * c): a view of channels-last maps


def _inference_steps(cnn: ConvFrontEnd) -> tuple[list, nn.Module]:
    tensors = [*cnn.stack.parameters(), *cnn.stack.buffers(), *cnn.fc.parameters()]
    key = tuple((id(t), t._version) for t in tensors)
    cached = getattr(cnn, "_inference_steps_cache", None)
    if cached is None or cached[0] != key:
        cached = (key, (_fold_stack(cnn.stack), _channels_last_fc(cnn)))
        object.__setattr__(cnn, "_inference_steps_cache", cached)  # not a submodule: never saved or trained
    return cached[1]


def _fold_stack(stack: nn.Sequential) -> list:
    """The eval-mode stack as steps: Conv2d + BatchNorm2d folded into one channels-last convolution, (1, 2) max
    pools as strided maxima taken before the ReLU that precedes them, ReLU in place; dropout is the identity."""
    layers = [layer for layer in stack if not isinstance(layer, nn.Dropout)]
    steps, i = [], 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, nn.Conv2d):
            bn = layers[i + 1] if i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d) else None
            steps.append(_folded_conv(layer, bn))
            i += 2 if bn is not None else 1
            continue
        if isinstance(layer, nn.ReLU) and i + 1 < len(layers) and _is_frequency_pair_pool(layers[i + 1]):
            steps += [_pool_frequency_pairs, torch.relu_]  # max commutes with the monotone ReLU
            i += 2
            continue
        if _is_frequency_pair_pool(layer):
            steps.append(_pool_frequency_pairs)
        elif isinstance(layer, nn.ReLU):
            steps.append(torch.relu_)  # an intermediate of cnn_features, not the caller's mel: no copy needed
        else:
            steps.append(layer)
        i += 1
    return steps


def _channels_last_fc(cnn: ConvFrontEnd) -> nn.Module:
    """`cnn.fc` with its input features reordered from (channel, bin) to (bin, channel) order."""
    linear = cnn.fc[0]
    channels = [layer for layer in cnn.stack if isinstance(layer, nn.Conv2d)][-1].out_channels
    reordered = nn.Linear(linear.in_features, linear.out_features)
    with torch.no_grad():
        weight = linear.weight.detach().reshape(linear.out_features, channels, -1)
        reordered.weight.copy_(weight.transpose(1, 2).reshape(linear.out_features, -1))
        reordered.bias.copy_(linear.bias.detach())
    return reordered.eval().requires_grad_(False)


def _folded_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d | None) -> nn.Conv2d:
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                       conv.dilation, conv.groups, bias=True)
    with torch.no_grad():
        weight, bias = conv.weight.detach(), conv.bias.detach() if conv.bias is not None else torch.zeros(conv.out_channels)
        if bn is not None:
            scale = bn.weight.detach() / torch.sqrt(bn.running_var + bn.eps)
            weight, bias = weight * scale[:, None, None, None], (bias - bn.running_mean) * scale + bn.bias.detach()
        folded.weight.copy_(weight)
        folded.bias.copy_(bias)
    return folded.eval().requires_grad_(False).to(memory_format=torch.channels_last)


def _is_frequency_pair_pool(layer: nn.Module) -> bool:
    return (
        isinstance(layer, nn.MaxPool2d)
        and _pair(layer.kernel_size) == (1, 2)
        and _pair(layer.stride) == (1, 2)
        and _pair(layer.padding) == (0, 0)
        and _pair(layer.dilation) == (1, 1)
        and not layer.ceil_mode
    )


def _pair(value: int | tuple[int, ...]) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, tuple | list) else (value, value)


def _pool_frequency_pairs(x: torch.Tensor) -> torch.Tensor:
    """max over bins (2i, 2i+1) of the last axis, dropping an odd last bin (as MaxPool2d((1, 2)) does)."""
    even = 2 * (x.shape[-1] // 2)
    return torch.maximum(x[..., 0:even:2], x[..., 1:even:2])


def empty_activations() -> Activations:
    z = np.zeros((0, 88), dtype=np.float32)
    return Activations(z, z, z, z, np.zeros(0, dtype=np.float32))
