"""Scoring a model on rendered segments: used by training (validation) and `bench accuracy`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np
import torch

from notestream.notes import Performance

from .activations import Activations
from .checkpoint import LoadedModel
from .config import DecoderConfig, WindowConfig
from .data.corpus import Segment
from .decoding import decode
from .evaluation import TranscriptionMetrics, mean_scores, pedal_metrics, performance_metrics
from .transcriber import Transcriber
from .views import view_activations


def reference_performance(segment: Segment) -> Performance:
    """A segment's ground truth: notes that start inside it (earlier ones cannot be detected)."""
    return Performance([n for n in segment.notes if n.onset >= 0], segment.pedals)


def segment_audio(segment: Segment) -> np.ndarray:
    return segment.audio.astype(np.float32) / 32768.0


def segment_metrics(loaded: LoadedModel, segments: Iterable[Segment], window: WindowConfig | None = None) -> tuple[TranscriptionMetrics, list[TranscriptionMetrics]]:
    """Transcribe each segment with the streaming/offline path and score it; returns (mean, per segment)."""
    was_training = loaded.model.training
    loaded.model.eval()
    transcriber = Transcriber(loaded, window)
    per_segment = []
    with torch.inference_mode():
        for seg in segments:
            result = transcriber.transcribe(segment_audio(seg))
            per_segment.append(performance_metrics(Performance(result.notes, result.pedals), reference_performance(seg)))
    loaded.model.train(was_training)
    return mean_scores(per_segment), per_segment


def segment_activations(loaded: LoadedModel, segment: Segment) -> Activations:
    """Network outputs for a whole segment through the streaming path (features in one push), every view combined."""
    return view_activations(loaded, segment_audio(segment))


# Steps of 0.025 where it matters: the focal loss keeps onset probabilities in a narrow band (struck keys
# mostly 0.5-0.9, near misses and harmonics 0.3-0.5), so 0.1 apart the grid straddles the best threshold.
ONSET_THRESHOLDS = (0.15, 0.2, 0.3, 0.35, 0.4, 0.425, 0.45, 0.475, 0.5, 0.525, 0.55, 0.6)
FRAME_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
END_FRAMES = (1, 2, 3)  # a dip of the frame activation shorter than this does not end a note
WEAK_ONSETS = tuple((weak, rise) for weak in (0.25, 0.3, 0.35, 0.4) for rise in (0.2, 0.3, 0.5))  # (threshold, rise)
OFFSET_SNAPS = ((0, 0.2), *((n, floor) for n in (2, 4, 6, 8) for floor in (0.1, 0.2, 0.3)))  # (frames, floor)
OFFSET_THRESHOLDS = (0.3, 0.5, 0.7, None)  # None: notes end on the frame activation alone
PEDAL_THRESHOLDS = ((0.5, None), (0.5, 0.4), (0.6, 0.4), (0.6, 0.5), (0.7, 0.4), (0.7, 0.5))  # (press, release)
PEDAL_SNAPS = ((0, 0.4), (4, 0.3), (4, 0.4), (8, 0.3), (8, 0.4))  # (frames, floor): presses back along the rise


def calibrate_decoder(loaded: LoadedModel, segments: list[Segment]) -> tuple[DecoderConfig, TranscriptionMetrics]:
    """Tune the decoder thresholds on `segments` (validation only); returns the config and its mean scores.

    Notes exist by their onsets alone, so the onset threshold is chosen first, for note F1, then whether
    weaker onset peaks count where the frame activation rises across them (with the onset threshold at
    most two grid steps higher), for the same. The pedal thresholds, with how far back a press may move
    along the activation's rise, are chosen next, for pedal press + release F1 plus note-with-offset +
    frame F1 (a longer pedal lengthens the notes it holds). The frame and offset thresholds and the dip
    length that ends a note only decide where notes end (pedal-extended in scoring): they are chosen
    together, for note-with-offset F1 plus frame F1 (with onsets on their rise, among dips that hold no frame
    back); last, how far back an end may snap to the offset head's peak, for the same. The network runs once
    per segment; only decoding is repeated.
    """
    activations = [segment_activations(loaded, seg) for seg in segments]
    references = [reference_performance(seg) for seg in segments]
    frame_rate = loaded.features.frame_rate

    def decoded(config: DecoderConfig) -> list[tuple[Performance, Performance, float]]:
        return [(Performance(*decode(acts, config, frame_rate)), ref, len(acts) / frame_rate)
                for acts, ref in zip(activations, references, strict=True)]

    def notes_with(config: DecoderConfig) -> TranscriptionMetrics:
        return mean_scores([performance_metrics(est, ref) for est, ref, _ in decoded(config)])

    def pedal_and_ends(config: DecoderConfig) -> float:
        """Pedal press + release F1 plus note-with-offset + frame F1: the pedal also extends the notes."""
        rows = decoded(config)
        pedal = [pedal_metrics(est.pedals, ref.pedals, duration=seconds) for est, ref, seconds in rows]
        return float(np.mean([s.pedal_onset_f1 + s.pedal_offset_f1 for s in pedal])) + _by_ends(
            mean_scores([performance_metrics(est, ref) for est, ref, _ in rows]))

    config = _best([replace(loaded.decoder, onset_threshold=t, weak_onset_threshold=None) for t in ONSET_THRESHOLDS],
                   notes_with, _by_notes)[0]
    config = _best(_weak_onset_configs(config), notes_with, _by_notes)[0]
    config = max([replace(config, pedal_threshold=p, pedal_release_threshold=r, pedal_snap_frames=n, pedal_snap_floor=f)
                  for p, r in PEDAL_THRESHOLDS for n, f in PEDAL_SNAPS], key=pedal_and_ends)
    end_configs = [replace(config, frame_threshold=f, offset_threshold=o, end_frames=k)
                   for f in FRAME_THRESHOLDS for o in OFFSET_THRESHOLDS for k in _end_frames(config)]
    config = _best(end_configs, notes_with, _by_ends)[0]
    return _best([replace(config, offset_snap_frames=n, offset_snap_floor=floor) for n, floor in OFFSET_SNAPS],
                 notes_with, _by_ends)


def _end_frames(config: DecoderConfig) -> tuple[int, ...]:
    """The dip lengths to try: with onsets on their rise, only those that hold no frame back (the rule's point)."""
    if not config.onset_on_rise:
        return END_FRAMES
    return tuple(k for k in END_FRAMES if replace(config, end_frames=k).frames_ahead == 0)


def _by_notes(m: TranscriptionMetrics) -> tuple[float, float]:
    return round(m.note_f1, 4), m.frame_f1


def _by_ends(m: TranscriptionMetrics) -> float:
    return m.note_offset_f1 + m.frame_f1


def _weak_onset_configs(config: DecoderConfig) -> list[DecoderConfig]:
    """`config`, and weak onsets under onset thresholds up to two grid steps above its own (weak ones let it rise)."""
    stronger = [t for t in ONSET_THRESHOLDS if t >= config.onset_threshold][:3]
    return [config] + [replace(config, onset_threshold=t, weak_onset_threshold=w, onset_rise=r)
                       for t in stronger for w, r in WEAK_ONSETS if w < t]


def _best(configs: list[DecoderConfig], evaluate: Callable[[DecoderConfig], TranscriptionMetrics],
          key: Callable[[TranscriptionMetrics], object]) -> tuple[DecoderConfig, TranscriptionMetrics]:
    """The config whose mean scores rank highest by `key` (the first of equals)."""
    scored = [(config, evaluate(config)) for config in configs]
    return max(scored, key=lambda pair: key(pair[1]))
