"""Scoring a model on rendered segments: used by training (validation) and `bench accuracy`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

import numpy as np
import torch

from .checkpoint import LoadedModel
from .config import DecoderConfig, WindowConfig
from .data.corpus import Segment
from .decoding import Activations, decode
from .evaluation import TranscriptionScores, mean_scores, score_performances
from .features import LogMelExtractor, StreamingLogMel
from .incremental import IncrementalNetwork
from .notes import Performance
from .transcriber import Transcriber


def reference_performance(segment: Segment) -> Performance:
    """A segment's ground truth: notes that start inside it (earlier ones cannot be detected)."""
    return Performance([n for n in segment.notes if n.onset >= 0], segment.pedals)


def segment_audio(segment: Segment) -> np.ndarray:
    return segment.audio.astype(np.float32) / 32768.0


def score_segments(loaded: LoadedModel, segments: Iterable[Segment], window: WindowConfig | None = None) -> tuple[TranscriptionScores, list[TranscriptionScores]]:
    """Transcribe each segment with the streaming/offline path and score it; returns (mean, per segment)."""
    was_training = loaded.model.training
    loaded.model.eval()
    transcriber = Transcriber(loaded, window)
    per_segment = []
    with torch.inference_mode():
        for seg in segments:
            result = transcriber.transcribe(segment_audio(seg))
            per_segment.append(score_performances(Performance(result.notes, result.pedals), reference_performance(seg)))
    loaded.model.train(was_training)
    return mean_scores(per_segment), per_segment


def segment_activations(loaded: LoadedModel, segment: Segment) -> Activations:
    """Network outputs for a whole segment through the streaming path (features in one push)."""
    mel = StreamingLogMel(LogMelExtractor(loaded.features))
    network = IncrementalNetwork(loaded, loaded.window)
    with torch.inference_mode():
        parts = [network.push(mel.push(segment_audio(segment))), network.push(mel.flush(), final=True)]
    return Activations.concat(parts)


ONSET_THRESHOLDS = (0.15, 0.2, 0.3, 0.4, 0.5, 0.6)
FRAME_THRESHOLDS = (0.3, 0.4, 0.5, 0.6)
OFFSET_THRESHOLDS = (0.3, 0.5, 0.7, None)  # None: notes end on the frame activation alone


def calibrate_decoder(loaded: LoadedModel, segments: list[Segment]) -> tuple[DecoderConfig, TranscriptionScores]:
    """Tune the decoder thresholds on `segments` (validation only); returns the config and its mean scores.

    Notes exist by their onsets alone, so the onset threshold is chosen first, for note F1. The frame
    and offset thresholds only decide where notes end: they are chosen together for note-with-offset
    F1 plus frame F1. The network runs once per segment; only decoding is repeated.
    """
    activations = [segment_activations(loaded, seg) for seg in segments]
    references = [reference_performance(seg) for seg in segments]

    def mean_with(config: DecoderConfig) -> TranscriptionScores:
        scores = []
        for acts, ref in zip(activations, references, strict=True):
            notes, pedals = decode(acts, config, loaded.features.frame_rate)
            scores.append(score_performances(Performance(notes, pedals), ref))
        return mean_scores(scores)

    onset_configs = [replace(loaded.decoder, onset_threshold=t) for t in ONSET_THRESHOLDS]
    onset_config = _best(onset_configs, mean_with, lambda m: (round(m.note_f1, 4), m.frame_f1))[0]
    end_configs = [replace(onset_config, frame_threshold=f, offset_threshold=o)
                   for f in FRAME_THRESHOLDS for o in OFFSET_THRESHOLDS]
    return _best(end_configs, mean_with, lambda m: m.note_offset_f1 + m.frame_f1)


def _best(configs: list[DecoderConfig], evaluate: Callable[[DecoderConfig], TranscriptionScores],
          key: Callable[[TranscriptionScores], object]) -> tuple[DecoderConfig, TranscriptionScores]:
    """The config whose mean scores rank highest by `key` (the first of equals)."""
    scored = [(config, evaluate(config)) for config in configs]
    return max(scored, key=lambda pair: key(pair[1]))
