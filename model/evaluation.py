"""Transcription metrics with mir_eval's standard settings, plus frame-level P/R/F1."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import mir_eval
import numpy as np

from notestream.notes import Note, PedalSpan, Performance, extend_with_pedal

from .pianoroll import piano_roll

ONSET_TOLERANCE = 0.05
OFFSET_RATIO = 0.2
OFFSET_MIN_TOLERANCE = 0.05
EVAL_FRAME_RATE = 100.0
# mir_eval's matching of notes scored with their offsets (note+offset and note+offset+velocity F1)
OFFSET_MATCHING = {"onset_tolerance": ONSET_TOLERANCE, "offset_ratio": OFFSET_RATIO, "offset_min_tolerance": OFFSET_MIN_TOLERANCE}


@dataclass
class TranscriptionMetrics:
    """Precision/recall/F1 for notes, notes with offsets, with offsets and velocity, and frames."""

    note_precision: float
    note_recall: float
    note_f1: float
    note_offset_precision: float
    note_offset_recall: float
    note_offset_f1: float
    note_offset_velocity_precision: float
    note_offset_velocity_recall: float
    note_offset_velocity_f1: float
    frame_precision: float
    frame_recall: float
    frame_f1: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def note_arrays(notes: list[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """mir_eval's inputs: (n, 2) intervals in seconds (each at least 1 ms long), pitches in Hz, velocities."""
    if not notes:
        return np.zeros((0, 2)), np.zeros(0), np.zeros(0)
    intervals = np.array([[n.onset, max(n.offset, n.onset + 1e-3)] for n in notes], dtype=float)
    pitches = np.array([mir_eval.util.midi_to_hz(n.pitch) for n in notes], dtype=float)
    velocities = np.array([n.velocity for n in notes], dtype=float)
    return intervals, pitches, velocities


def _prf(tp: float, n_est: float, n_ref: float) -> tuple[float, float, float]:
    precision = tp / n_est if n_est else 0.0
    recall = tp / n_ref if n_ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def frame_scores(est: list[Note], ref: list[Note], frame_rate: float = EVAL_FRAME_RATE) -> tuple[float, float, float]:
    """P/R/F1 over (frame, key) cells of the two piano rolls."""
    end = max([n.offset for n in est + ref], default=0.0)
    n_frames = int(np.ceil(end * frame_rate)) + 1
    est_roll = piano_roll(est, n_frames, frame_rate)
    ref_roll = piano_roll(ref, n_frames, frame_rate)
    tp = float(np.logical_and(est_roll, ref_roll).sum())
    return _prf(tp, float(est_roll.sum()), float(ref_roll.sum()))


def _note_prf(ref, est, **kwargs) -> tuple[float, float, float]:
    (ri, rp, rv), (ei, ep, ev) = ref, est
    if len(ri) == 0 or len(ei) == 0:
        return 0.0, 0.0, 0.0
    if "velocity" in kwargs:
        kwargs.pop("velocity")
        p, r, f, _ = mir_eval.transcription_velocity.precision_recall_f1_overlap(ri, rp, rv, ei, ep, ev, **kwargs)
    else:
        p, r, f, _ = mir_eval.transcription.precision_recall_f1_overlap(ri, rp, ei, ep, **kwargs)
    return float(p), float(r), float(f)


def note_metrics(est: list[Note], ref: list[Note]) -> TranscriptionMetrics:
    """Compare estimated notes against reference notes (both already pedal-extended if wanted)."""
    ref_arrays, est_arrays = note_arrays(ref), note_arrays(est)
    common = {"onset_tolerance": ONSET_TOLERANCE}
    note = _note_prf(ref_arrays, est_arrays, **common, offset_ratio=None)
    note_off = _note_prf(ref_arrays, est_arrays, **OFFSET_MATCHING)
    note_off_vel = _note_prf(ref_arrays, est_arrays, **OFFSET_MATCHING, velocity=True)
    frame = frame_scores(est, ref)
    return TranscriptionMetrics(*note, *note_off, *note_off_vel, *frame)


def performance_metrics(est: Performance, ref: Performance) -> TranscriptionMetrics:
    """Score two performances with the pedal rule applied to both (notes sound while the pedal holds them)."""
    return note_metrics(extend_with_pedal(est.notes, est.pedals), extend_with_pedal(ref.notes, ref.pedals))


def mean_scores(scores: list[TranscriptionMetrics]) -> TranscriptionMetrics:
    if not scores:
        raise ValueError("no scores to average")
    keys = scores[0].to_dict().keys()
    return TranscriptionMetrics(**{k: float(np.mean([s.to_dict()[k] for s in scores])) for k in keys})


PEDAL_TOLERANCE = 0.05


@dataclass
class PedalMetrics:
    """F1 of sustain-pedal presses (onsets) and releases (offsets), each matched within a tolerance."""

    pedal_onset_f1: float
    pedal_offset_f1: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


def pedal_metrics(est: list[PedalSpan], ref: list[PedalSpan], tolerance: float = PEDAL_TOLERANCE,
                 duration: float | None = None) -> PedalMetrics:
    """Pedal onset and offset F1 with mir_eval's one-to-one event matching (50 ms by default).

    With the excerpt's `duration`, presses and releases within `tolerance` of its edges are left out of
    both sides: a pedal already down when an excerpt starts (or still down when it ends) has no press
    (or release) there to find.
    """

    def inside(times: list[float]) -> list[float]:
        if duration is None:
            return times
        return [t for t in times if tolerance < t < duration - tolerance]

    def f1(est_times: list[float], ref_times: list[float]) -> float:
        est_times, ref_times = inside(est_times), inside(ref_times)
        if not est_times or not ref_times:
            return float(not est_times and not ref_times)
        return float(mir_eval.onset.f_measure(np.array(ref_times), np.array(est_times), window=tolerance)[0])

    return PedalMetrics(f1([p.onset for p in est], [p.onset for p in ref]), f1([p.offset for p in est], [p.offset for p in ref]))
