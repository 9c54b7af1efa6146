"""Typed configuration of the network, its streaming windows and the note decoder."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

# the compute type of the CNN and the backward GRU's input projection at inference (checkpoint.resolve_precision)
PRECISIONS = ("auto", "float32", "bfloat16")


@dataclass(frozen=True)
class WindowConfig:
    """How the backward recurrence sees the future.

    Outputs are produced in blocks of `hop` frames; the backward GRU of each block runs over the block
    plus `lookahead` future frames. The forward GRU carries its state across blocks, so the model never
    needs more than `hop + lookahead` frames (plus the CNN's 3) of future audio.
    """

    hop: int = 8
    lookahead: int = 16

    def replaced(self, hop: int | None = None, lookahead: int | None = None) -> WindowConfig:
        """This window with the hop and look-ahead that are given (None keeps this one's)."""
        return WindowConfig(self.hop if hop is None else hop, self.lookahead if lookahead is None else lookahead)


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the CR-GCN network: CNN front end, bidirectional GRU, GCN label head."""

    cnn_channels: tuple[int, int, int] = (16, 16, 32)
    cnn_fc: int = 256
    rnn_hidden: int = 128
    label_head: str = "gcn"  # "gcn" or "linear" (the ablation)
    gcn_hidden: tuple[int, ...] = (128, 256)
    adjacency_tau: float = 0.7
    adjacency_reweight: float = 0.0  # 0: the paper's D^-1/2 (A+I) D^-1/2; p > 0: ML-GCN re-weighting, neighbours share p
    label_graph: str = "cooccurrence"  # "cooccurrence" (the paper, thresholded at adjacency_tau) or "harmonic" (partials 2..6)
    gcn_residual: bool = False  # classifiers = free per-key weights + the GCN output (its last layer starts at zero)
    dropout: float = 0.2

    @property
    def embedding(self) -> int:
        return 2 * self.rnn_hidden


@dataclass(frozen=True)
class DecoderConfig:
    """Thresholds turning activations into notes and pedal spans.

    An onset peak starts a note at `onset_threshold`, or from `weak_onset_threshold` up when the frame
    activation rises by `onset_rise` from the frame before to the frame after it (a soft or masked strike
    the onset head is unsure of, confirmed by the key starting to sound; None: no weak onsets).
    `offset_threshold` None: notes end on the frame activation alone, the offset head is not used
    (calibration chooses this when the offset head cuts sustained notes short). A note ends where the
    frame activation stays below `frame_threshold` for `end_frames` frames in a row, so a shorter dip
    does not cut it (its end is decided, and sent, up to one frame late; each frame beyond three holds
    the decoder's decisions back one frame). The pedal goes down at `pedal_threshold` and up below
    `pedal_release_threshold`.
    """

    onset_threshold: float = 0.5
    frame_threshold: float = 0.5
    pedal_threshold: float = 0.5
    offset_threshold: float | None = 0.5
    pedal_release_threshold: float | None = None  # None: the pedal_threshold (no hysteresis)
    end_frames: int = 1  # 1: the first frame below frame_threshold ends the note
    # a decided end moves back to the offset head's strongest frame among the last `offset_snap_frames`
    # frames before it, when that frame reaches `offset_snap_floor` (0 frames: ends stay where decided)
    offset_snap_frames: int = 0
    offset_snap_floor: float = 0.2
    weak_onset_threshold: float | None = None
    onset_rise: float = 0.3
    # a press moves back along the pedal activation's rise while it stays at or above `pedal_snap_floor`, up
    # to `pedal_snap_frames` frames (0: presses stay where the threshold is crossed)
    pedal_snap_frames: int = 0
    pedal_snap_floor: float = 0.4
    # True: a note starts on the frame its onset activation first becomes strong enough, decided at once, not
    # on the activation's peak, which waits a frame for the next one: one frame (16 ms) less latency
    onset_on_rise: bool = False

    def __post_init__(self) -> None:
        if self.end_frames < 1:
            raise ValueError(f"end_frames must be at least 1, not {self.end_frames}")
        if self.offset_snap_frames < 0 or self.pedal_snap_frames < 0:
            raise ValueError(f"snap frames must not be negative, not {self.offset_snap_frames} / {self.pedal_snap_frames}")

    def with_onset_threshold(self, threshold: float) -> DecoderConfig:
        """This decoder with onsets from `threshold` instead: lower hears more notes (soft ones, the bass) and adds
        more extra ones. Weak onsets keep their distance below it, so the rise rule still confirms the weakest."""
        if not 0 < threshold < 1:
            raise ValueError(f"an onset threshold is a probability between 0 and 1, not {threshold}")
        weak = self.weak_onset_threshold
        if weak is not None:
            weak = max(0.01, weak + threshold - self.onset_threshold)
        return replace(self, onset_threshold=threshold, weak_onset_threshold=weak)

    @property
    def frames_ahead(self) -> int:
        """Frames the decoder holds back: one for peak picking (the next onset; none when onsets are taken on
        their rise), more for long end runs. A note's end may be decided one frame behind its key's onsets: a
        re-strike still sees every earlier end."""
        return max(0 if self.onset_on_rise else 1, self.end_frames - 2)

    @property
    def end_lag(self) -> int:
        """Frames by which a note's end is decided behind the onsets: a run's last frame is held back no further."""
        return max(0, self.end_frames - 1 - self.frames_ahead)

    @property
    def backdate_frames(self) -> int:
        """At most how many frames a note_off's or pedal_on's time may lie before events already sent."""
        return max(self.end_lag + self.offset_snap_frames, self.pedal_snap_frames)


@dataclass(frozen=True)
class ViewConfig:
    """The pitch-shifted views of the audio whose activations are averaged at inference (0: the audio itself).

    A view shifted by s semitones reads the mel features of the audio raised by s (a warped filterbank on the
    same STFT, `mel_filterbank`); its key k + s is the audio's key k. The network, trained with pitch shifts,
    hears each view as another piano, and their mean is steadier on pianos it never heard. Each view costs a
    network pass; the latency is unchanged.
    """

    semitones: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        if not self.semitones or len(set(self.semitones)) != len(self.semitones) or any(abs(s) > 12 for s in self.semitones):
            raise ValueError(f"views must be distinct shifts of at most 12 semitones, not {self.semitones}")


ACCURATE = "accurate"  # the latency of a checkpoint's own window, views and decoder
LATENCY_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


@dataclass(frozen=True)
class LatencyPreset:
    """A named operating point of a checkpoint besides its own ("accurate"): a shorter streaming window, the
    views run there, and the decoder calibrated for both. One set of weights serves them all."""

    window: WindowConfig
    views: ViewConfig
    decoder: DecoderConfig


def config_to_dict(config: Any) -> dict:
    return asdict(config)


def config_from_dict(cls: type, data: dict) -> Any:
    """Build a config dataclass from a dict, turning lists back into tuples; unknown keys are an error."""
    known = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    return cls(**values)


@dataclass
class InferenceConfig:
    window: WindowConfig = field(default_factory=WindowConfig)
    decoder: DecoderConfig = field(default_factory=DecoderConfig)
