"""Scoring a model on rendered segments: used by training (validation) and `bench accuracy`."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from .checkpoint import LoadedModel
from .config import WindowConfig
from .data.corpus import Segment
from .evaluation import TranscriptionScores, mean_scores, score_performances
from .notes import Note, Performance
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


def notes_f1(est: list[Note], ref: list[Note]) -> float:
    from .evaluation import score_notes

    return score_notes(est, ref).note_f1
