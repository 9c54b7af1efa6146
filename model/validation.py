"""Scoring a model on rendered segments: used by training (validation) and `bench accuracy`."""

from __future__ import annotations

from collections.abc import Iterable
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
FRAME_THRESHOLDS = (0.2, 0.3, 0.4, 0.5)


def calibrate_decoder(loaded: LoadedModel, segments: list[Segment]) -> tuple[DecoderConfig, TranscriptionScores]:
    """Pick onset and frame thresholds that maximise mean note F1 (frame F1 breaks ties) on `segments`.

    Use validation segments only. The network runs once per segment; only decoding is repeated per
    threshold pair. Returns the best decoder config and the mean scores it gets.
    """
    activations = [segment_activations(loaded, seg) for seg in segments]
    references = [reference_performance(seg) for seg in segments]
    best: tuple[tuple[float, float], DecoderConfig, TranscriptionScores] | None = None
    for onset in ONSET_THRESHOLDS:
        for frame in FRAME_THRESHOLDS:
            config = replace(loaded.decoder, onset_threshold=onset, frame_threshold=frame)
            scores = []
            for acts, ref in zip(activations, references, strict=True):
                notes, pedals = decode(acts, config, loaded.features.frame_rate)
                scores.append(score_performances(Performance(notes, pedals), ref))
            mean = mean_scores(scores)
            key = (round(mean.note_f1, 4), mean.frame_f1)
            if best is None or key > best[0]:
                best = (key, config, mean)
    return best[1], best[2]
