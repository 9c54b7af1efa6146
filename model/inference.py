"""Incremental inference: audio chunks in, note events out. Offline transcription is this, fed a file."""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import numpy as np
import torch
from torch import nn

from .checkpoint import LoadedModel
from .config import WindowConfig
from .decoding import Activations, NoteDecoder
from .features import LogMelExtractor, StreamingLogMel
from .network import CNN_CONTEXT, ConvFrontEnd
from .notes import Note, NoteEvent, PedalSpan


class IncrementalNetwork:
    """Runs the network on mel frames as they arrive; outputs exactly what one whole-sequence pass gives.

    The CNN is evaluated with 3 frames of context on each side, the forward GRU carries its state,
    and the backward GRU runs block by block once a block's look-ahead has arrived.
    """

    def __init__(self, loaded: LoadedModel, window: WindowConfig):
        self.model, self.window, self.device = loaded.model, window, loaded.device
        cfg = loaded.model.config
        self._mel = torch.zeros(0, loaded.features.n_mels)
        self._mel_start = 0  # absolute index of self._mel[0]
        self._n_features = 0
        self._features = torch.zeros(1, 0, cfg.cnn_fc, device=self.device)
        self._forward_out = torch.zeros(1, 0, cfg.rnn_hidden, device=self.device)
        self._state: torch.Tensor | None = None

    @torch.inference_mode()
    def push(self, mel: torch.Tensor, final: bool = False) -> Activations:
        """Add mel frames (n, n_mels); return activations for every frame now decided."""
        self._mel = torch.cat([self._mel, mel.cpu()])
        total = self._mel_start + self._mel.shape[0]
        upto = total if final else total - CNN_CONTEXT
        if upto > self._n_features:
            self._extend_features(total if final else upto + CNN_CONTEXT, upto)
        return self._run_blocks(final)

    def _extend_features(self, mel_stop: int, upto: int) -> None:
        lo = max(0, self._n_features - CNN_CONTEXT)
        segment = self._mel[lo - self._mel_start: mel_stop - self._mel_start].to(self.device)
        features = cnn_features(self.model.cnn, segment.unsqueeze(0))[:, self._n_features - lo: upto - lo]
        forward, self._state = self.model.rnn.forward_direction(features, self._state)
        self._features = torch.cat([self._features, features], dim=1)
        self._forward_out = torch.cat([self._forward_out, forward], dim=1)
        self._n_features = upto
        keep_from = max(0, upto - CNN_CONTEXT)
        self._mel = self._mel[keep_from - self._mel_start:]
        self._mel_start = keep_from

    def _run_blocks(self, final: bool) -> Activations:
        hop, lookahead = self.window.hop, self.window.lookahead
        pending = self._features.shape[1]
        n_blocks = -(-pending // hop) if final else max(0, (pending - lookahead) // hop)
        if n_blocks == 0:
            return empty_activations()
        backward = self.model.rnn.backward_direction(self._features[:, : n_blocks * hop + lookahead], n_blocks, self.window)
        n_out = backward.shape[1]
        logits = self.model.heads(torch.cat([self._forward_out[:, :n_out], backward], dim=-1))
        self._features = self._features[:, n_out:]
        self._forward_out = self._forward_out[:, n_out:]
        probs = {k: torch.sigmoid(v[0]).float().cpu().numpy() for k, v in logits.items()}
        return Activations(probs["onset"], probs["frame"], probs["offset"], probs["velocity"], probs["pedal"])


def cnn_features(cnn: ConvFrontEnd, mel: torch.Tensor) -> torch.Tensor:
    """`cnn(mel)`, bit for bit, with two CPU shortcuts: frequency pairs pooled by a reshape and `amax`,
    and ReLU in place.

    torch's CPU `max_pool2d` kernel takes a third of the CNN's time for (1, 2) windows; a max is exact,
    so the result is identical.
    """
    if mel.device.type != "cpu":
        return cnn(mel)
    x = mel.unsqueeze(1)
    for i, layer in enumerate(cnn.stack):
        if _is_frequency_pair_pool(layer):
            x = _pool_frequency_pairs(x)
        elif isinstance(layer, nn.ReLU) and i > 0:
            x = x.relu_()  # an intermediate of this function, not the caller's mel: no copy needed
        else:
            x = layer(x)
    return cnn.fc(x.transpose(1, 2).flatten(-2))


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
    half = x.shape[-1] // 2
    return x[..., : 2 * half].unflatten(-1, (half, 2)).amax(-1)


def empty_activations() -> Activations:
    z = np.zeros((0, 88), dtype=np.float32)
    return Activations(z, z, z, z, np.zeros(0, dtype=np.float32))


@dataclass
class StreamResult:
    notes: list[Note]
    pedals: list[PedalSpan]
    duration: float


class TranscriptionStream:
    """One live transcription: push mono float32 audio at the model's rate, get note events back."""

    def __init__(self, loaded: LoadedModel, window: WindowConfig | None = None):
        self.loaded = loaded
        self.window = window or loaded.window
        self.sample_rate = loaded.features.sample_rate
        extractor = LogMelExtractor(loaded.features)
        self._mel = StreamingLogMel(extractor)
        self._network = IncrementalNetwork(loaded, self.window)
        self._decoder = NoteDecoder(loaded.decoder, loaded.features.frame_rate)
        self._samples = 0
        self.finished = False

    @property
    def audio_seconds(self) -> float:
        return self._samples / self.sample_rate

    def push(self, audio: np.ndarray) -> list[NoteEvent]:
        """Feed samples (any length); return events decided so far, in time order."""
        if self.finished:
            raise RuntimeError("this stream has finished; start a new one")
        self._samples += int(np.asarray(audio).size)
        mel = self._mel.push(audio)
        return self._decoder.push(self._network.push(mel)) if mel.shape[0] else []

    def finish(self) -> list[NoteEvent]:
        """End of audio: flush every stage and close open notes."""
        self.finished = True
        acts = self._network.push(self._mel.flush(), final=True)
        return self._decoder.push(acts) + self._decoder.flush()

    def result(self) -> StreamResult:
        notes = sorted(self._decoder.notes, key=_note_order)  # the order of Note's own comparison, faster
        return StreamResult(notes, sorted(self._decoder.pedals), self.audio_seconds)


_note_order = attrgetter("onset", "offset", "pitch", "velocity")
