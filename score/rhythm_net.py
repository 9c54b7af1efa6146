"""The rhythm network: a bidirectional GRU over a performance's notes that predicts, for every note, whether
it falls on a beat and on a downbeat, the local beat period, the time signature, the key and the hand.

Inputs are what a transcription gives (onset, pitch, duration, velocity), nothing from a score, so the
same network reads our own transcriptions. The checkpoint carries its `RhythmConfig`, so the label sets
and sizes are never global constants.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from notestream.notes import Note

from .periodicity import CHORD_SPREAD, event_features, periodicity

DEFAULT_CHECKPOINT = Path(__file__).resolve().parent / "weights" / "rhythm.pt"
N_FEATURES = 18  # per-note features every network reads; RhythmConfig.n_features adds the optional ones
# The time signatures the network names; ASAP's rarer ones (5/8, 6/4, ...) are left out of the loss.
TIME_SIGNATURES = ("2/4", "3/4", "4/4", "2/2", "3/8", "6/8", "9/8", "12/8")


@dataclass(frozen=True)
class RhythmConfig:
    """Sizes and label sets of a rhythm network, saved inside its checkpoint."""

    hidden: int = 96
    layers: int = 2
    dropout: float = 0.1
    time_signatures: tuple[str, ...] = TIME_SIGNATURES
    n_keys: int = 12  # key signature in fifths, modulo 12
    event_features: bool = False  # the note's chord: its gaps, size and lowest note (periodicity.py)
    periodicity_bins: int = 0  # periods of the local interval histogram (periodicity.py); 0: none
    provenance: dict = field(default_factory=dict)

    @property
    def n_features(self) -> int:
        return N_FEATURES + 4 * self.event_features + self.periodicity_bins


def note_features(notes: list[Note], config: RhythmConfig = RhythmConfig()) -> np.ndarray:
    """(N, config.n_features) float32 features of notes sorted by (onset, pitch).

    Log gaps to the previous and next onset, log duration, pitch (scaled and as a pitch class), velocity;
    then, as the config asks, the note's event and the local periodicity of events (periodicity.py).
    Times enter only as differences, so a tempo change is a scale, not a shift.
    """
    onsets = np.array([n.onset for n in notes], dtype=np.float64)
    pitches = np.array([n.pitch for n in notes])
    gaps = np.diff(onsets, prepend=onsets[0] if len(notes) else 0.0)
    following = np.diff(onsets, append=onsets[-1] if len(notes) else 0.0)
    duration = np.array([n.offset - n.onset for n in notes], dtype=np.float64)
    features = np.zeros((len(notes), N_FEATURES), np.float32)
    features[:, 0] = np.log(np.clip(gaps, 0, 4) + 0.01)
    features[:, 1] = np.log(np.clip(following, 0, 4) + 0.01)
    features[:, 2] = np.log(np.clip(duration, 0, 8) + 0.01)
    features[:, 3] = (pitches - 64) / 24
    features[:, 4] = np.array([n.velocity for n in notes]) / 127
    features[:, 5] = gaps < CHORD_SPREAD  # struck with the previous note
    features[np.arange(len(notes)), 6 + pitches % 12] = 1.0
    extra = [features]
    if config.event_features:
        extra.append(event_features(onsets, pitches))
    if config.periodicity_bins:
        extra.append(periodicity(onsets, config.periodicity_bins))
    return np.concatenate(extra, axis=1)


def sort_notes(notes: list[Note]) -> list[int]:
    """Order in which the network reads notes: by onset, then pitch."""
    return sorted(range(len(notes)), key=lambda i: (notes[i].onset, notes[i].pitch))


class RhythmNet(nn.Module):
    """Per-note logits: beat, downbeat, log beat period, time signature, key and hand (right = 1)."""

    def __init__(self, config: RhythmConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Sequential(nn.Linear(config.n_features, config.hidden), nn.ReLU())
        self.gru = nn.GRU(
            config.hidden, config.hidden, num_layers=config.layers, batch_first=True,
            bidirectional=True, dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.heads = nn.Linear(2 * config.hidden, 4 + len(config.time_signatures) + config.n_keys)

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """features (B, N, config.n_features) -> dict of (B, N) or (B, N, classes) logits."""
        hidden, _ = self.gru(self.embed(features))
        out = self.heads(hidden)
        n_ts = len(self.config.time_signatures)
        return {
            "beat": out[..., 0],
            "downbeat": out[..., 1],
            "log_period": out[..., 2],
            "hand": out[..., 3],
            "time_signature": out[..., 4 : 4 + n_ts],
            "key": out[..., 4 + n_ts :],
        }


def feature_columns(config: RhythmConfig, union: RhythmConfig) -> list[int]:
    """Columns of the features `union` computes that a network of `config` reads (the shared features first,
    then the chord's, then the periodicity, as note_features lays them out)."""
    columns = list(range(N_FEATURES))
    if config.event_features:
        columns += range(N_FEATURES, N_FEATURES + 4)
    if config.periodicity_bins:
        start = N_FEATURES + 4 * union.event_features
        columns += range(start, start + config.periodicity_bins)
    return columns


class RhythmEnsemble(nn.Module):
    """Several RhythmNets reading the same notes; their logits are averaged (a mean of log periods for the
    period), so it predicts exactly as one RhythmNet does. Members may read different inputs: the ensemble's
    config asks for all of them, computed once, and each member reads its own columns."""

    def __init__(self, members: list[RhythmNet]):
        super().__init__()
        if len({m.config.time_signatures for m in members}) != 1:
            raise ValueError("ensemble members must name the same time signatures")
        if len({m.config.periodicity_bins for m in members} - {0}) > 1:
            raise ValueError("ensemble members must read the periodicity over the same periods, or not at all")
        self.config = replace(
            members[0].config, event_features=any(m.config.event_features for m in members),
            periodicity_bins=max(m.config.periodicity_bins for m in members),
        )
        self.members = nn.ModuleList(members)
        self.columns = [feature_columns(m.config, self.config) for m in members]

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        """features (B, N, config.n_features) -> the members' mean logits, keyed as RhythmNet's."""
        outs = [member(features[..., columns]) for member, columns in zip(self.members, self.columns, strict=True)]
        return {key: torch.stack([out[key] for out in outs]).mean(0) for key in outs[0]}


RhythmModel = RhythmNet | RhythmEnsemble


def save_rhythm_checkpoint(path: Path, net: RhythmModel, provenance: dict | None = None) -> None:
    """Weights (float16, to keep the shipped file small) and the config as a plain dict (its provenance
    replaced by `provenance` when given); an ensemble keeps one state and one config (without provenance)
    per member."""
    members = net.members if isinstance(net, RhythmEnsemble) else [net]
    states = [{k: v.half() for k, v in m.state_dict().items()} for m in members]
    config = asdict(net.config) | ({"provenance": provenance} if provenance is not None else {})
    member_configs = [asdict(m.config) | {"provenance": {}} for m in members]
    torch.save({"config": config, "members": states, "member_configs": member_configs}, path)


def load_rhythm_net(path: Path = DEFAULT_CHECKPOINT) -> RhythmModel:
    """A RhythmNet (or a RhythmEnsemble, when the checkpoint holds several) in eval mode, from a checkpoint
    written by `save_rhythm_checkpoint`."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: rhythm checkpoint not found; train one with score.rhythm_training")
    saved = torch.load(path, map_location="cpu", weights_only=True)
    states = saved["members"] if "members" in saved else [saved["state"]]
    raws = saved.get("member_configs", [saved["config"]] * len(states))  # older files: one config for all
    members = []
    for state, raw in zip(states, raws, strict=True):
        member = RhythmNet(RhythmConfig(**raw | {"time_signatures": tuple(raw["time_signatures"])}))
        member.load_state_dict({k: v.float() for k, v in state.items()})
        members.append(member)
    net = members[0] if len(members) == 1 else RhythmEnsemble(members)
    net.config = replace(net.config, provenance=saved["config"].get("provenance", {}))
    return net.eval()


@dataclass(frozen=True)
class RhythmPrediction:
    """Per-note outputs in the notes' own order: probabilities, beat period (s) and class probabilities."""

    beat: np.ndarray  # (N,)
    downbeat: np.ndarray  # (N,)
    period: np.ndarray  # (N,) seconds
    hand: np.ndarray  # (N,) probability of the right hand
    time_signature: np.ndarray  # (N, len(time_signatures))
    key: np.ndarray  # (N, 12)
    time_signatures: tuple[str, ...]


def predict_rhythm(net: RhythmModel, notes: list[Note]) -> RhythmPrediction:
    """Run the network over a whole performance (one sequence) and return per-note outputs."""
    order = sort_notes(notes)
    features = torch.from_numpy(note_features([notes[i] for i in order], net.config))[None]
    with torch.inference_mode():
        out = net(features)
    back = np.argsort(order)

    def per_note(x: torch.Tensor) -> np.ndarray:
        return x[0].numpy()[back]

    return RhythmPrediction(
        beat=per_note(torch.sigmoid(out["beat"])),
        downbeat=per_note(torch.sigmoid(out["downbeat"])),
        period=per_note(torch.exp(out["log_period"])),
        hand=per_note(torch.sigmoid(out["hand"])),
        time_signature=per_note(torch.softmax(out["time_signature"], -1)),
        key=per_note(torch.softmax(out["key"], -1)),
        time_signatures=net.config.time_signatures,
    )
