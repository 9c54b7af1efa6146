"""Training examples for the rhythm network from ASAP and from performances of written scores, and the
augmentations that make them look like our transcriptions: tempo and timing noise, transposition, dropped,
extra and shifted notes, and note ends as the audio sounds them (held by the pedal), which is what our
transcriber reports.

An example is one performance as parallel per-note arrays (sorted by onset, pitch) with its labels:
beat / downbeat (the onset lies on an annotated one), the local beat period, the time signature and key
in force, and the hand (the staff of the score note it matches; -1 where none matches).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from notestream.midi import read_midi
from notestream.notes import Note, extend_with_pedal

from .asap import match_performance, read_annotations, read_score_notes, value_at
from .meter import beat_quarters
from .rhythm_net import TIME_SIGNATURES, sort_notes

ON_BEAT_S = 0.035  # an onset this close to an annotated beat is on it
IGNORE = -1


@dataclass(frozen=True)
class RhythmExample:
    """Per-note arrays of one performance (inputs and labels), all of length N."""

    onset: np.ndarray
    offset: np.ndarray  # key release, as a MIDI file holds it
    sounding_offset: np.ndarray  # end of the sound with the sustain pedal, as a transcription reports it
    pitch: np.ndarray
    velocity: np.ndarray
    beat: np.ndarray
    downbeat: np.ndarray
    log_period: np.ndarray
    time_signature: np.ndarray  # index into TIME_SIGNATURES, IGNORE if another
    key: np.ndarray  # key signature in fifths modulo 12, IGNORE if none
    hand: np.ndarray  # 1 right (upper staff), 0 left, IGNORE unmatched

    def notes(self) -> list[Note]:
        return [
            Note(float(a), float(b), int(p), int(v))
            for a, b, p, v in zip(self.onset, self.offset, self.pitch, self.velocity, strict=True)
        ]

    def take(self, index: np.ndarray) -> RhythmExample:
        return RhythmExample(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


def _on_grid(times: np.ndarray, grid: np.ndarray) -> np.ndarray:
    if len(grid) == 0:
        return np.zeros(len(times), np.float32)
    idx = np.clip(np.searchsorted(grid, times), 1, max(1, len(grid) - 1))
    nearest = np.minimum(np.abs(grid[idx - 1] - times), np.abs(grid[np.minimum(idx, len(grid) - 1)] - times))
    return (nearest <= ON_BEAT_S).astype(np.float32)


def local_log_period(times: np.ndarray, beats: np.ndarray) -> np.ndarray:
    """log seconds per beat at each time, interpolated between beat-interval midpoints."""
    intervals = np.diff(beats)
    keep = intervals > 0.05
    mids = (beats[:-1] + beats[1:])[keep] / 2
    return np.interp(times, mids, np.log(intervals[keep])).astype(np.float32)


def build_example(row: dict, asap_root: Path) -> RhythmExample:
    """Inputs and labels of one ASAP metadata row."""
    performance = read_midi(asap_root / row["midi_performance"])
    notes = [performance.notes[i] for i in sort_notes(performance.notes)]
    ann = read_annotations(asap_root / row["performance_annotations"])
    score_ann = read_annotations(asap_root / row["midi_score_annotations"])
    score = _score_notes(asap_root / row["midi_score"])
    matches = match_performance(notes, ann, score_ann, score)
    onsets = np.array([n.onset for n in notes])
    signatures = value_at(ann.signatures, onsets)
    keys = value_at(ann.keys, onsets)
    return RhythmExample(
        onset=onsets,
        offset=np.array([n.offset for n in notes]),
        sounding_offset=sounding_offsets(notes, performance.pedals),
        pitch=np.array([n.pitch for n in notes]),
        velocity=np.array([n.velocity for n in notes]),
        beat=_on_grid(onsets, ann.beats),
        downbeat=_on_grid(onsets, ann.downbeats),
        log_period=local_log_period(onsets, ann.beats),
        time_signature=np.array([TIME_SIGNATURES.index(s) if s in TIME_SIGNATURES else IGNORE for s in signatures]),
        key=np.array([IGNORE if k is None else k % 12 for k in keys]),
        hand=np.array([IGNORE if m is None else 1 - score.staves[m] for m in matches]),
    )


def written_beats(bars) -> tuple[np.ndarray, np.ndarray]:
    """(beats, downbeats) in quarter notes of a score's bars (each with .offset, .length, .pickup and
    .time_signature, as a WrittenBar): a pickup bar counts its beats from where its full bar would begin
    and has no downbeat."""
    beats, downbeats = [], []
    for bar in bars:
        step = beat_quarters(bar.time_signature)
        first = bar.offset - bar.pickup
        beats += [t for t in first + step * np.arange(int(np.ceil((bar.pickup + bar.length) / step)))
                  if bar.offset - 1e-6 <= t < bar.offset + bar.length - 1e-6]
        if bar.pickup == 0 and bar.length > 0:
            downbeats.append(bar.offset)
    return np.array(beats, dtype=float), np.array(downbeats, dtype=float)


def example_from_score(notes: list[Note], pedals, written: np.ndarray, hands: np.ndarray, bars, seconds_at) -> RhythmExample:
    """Inputs and labels of a performance of a written score, where the labels are exact.

    notes: the performance's notes, sorted by `sort_notes`; written: (N,) each note's written onset in quarter
    notes; hands: (N,) 1 right, 0 left, IGNORE unknown; bars: the score's bars (see `written_beats`);
    seconds_at: written quarters -> performance seconds (the tempo it was played at).
    """
    beats, downbeats = written_beats(bars)
    starts = np.array([bar.offset for bar in bars])
    bar = np.clip(np.searchsorted(starts, written, side="right") - 1, 0, len(bars) - 1)
    onsets = np.array([n.onset for n in notes])
    signatures = [bars[b].time_signature for b in bar]
    keys = [bars[b].key_fifths for b in bar]

    def on(grid: np.ndarray) -> np.ndarray:  # written positions compared on a grid of 1/96 quarter
        return np.isin(np.round(written * 96), np.round(grid * 96)).astype(np.float32)

    return RhythmExample(
        onset=onsets,
        offset=np.array([n.offset for n in notes]),
        sounding_offset=sounding_offsets(notes, pedals),
        pitch=np.array([n.pitch for n in notes]),
        velocity=np.array([n.velocity for n in notes]),
        beat=on(beats),
        downbeat=on(downbeats),
        log_period=local_log_period(onsets, seconds_at(beats)),
        time_signature=np.array([TIME_SIGNATURES.index(s) if s in TIME_SIGNATURES else IGNORE for s in signatures]),
        key=np.array([IGNORE if k is None else k % 12 for k in keys]),
        hand=np.asarray(hands, dtype=int),
    )


def sounding_offsets(notes: list[Note], pedals) -> np.ndarray:
    """Pedal-extended offsets of notes sorted by `sort_notes`, in that order."""
    sounding = extend_with_pedal(notes, pedals)
    sounding = [sounding[i] for i in sort_notes(sounding)]
    if [(n.onset, n.pitch) for n in sounding] != [(n.onset, n.pitch) for n in notes]:
        raise ValueError("pedal extension changed the notes' order")
    return np.array([n.offset for n in sounding])


@lru_cache(maxsize=4)
def _score_notes(path: Path):
    """A work's score notes, read once for its several performances."""
    return read_score_notes(path)


def split_rows(asap_root: Path, split_file: Path) -> list[dict]:
    """metadata.csv rows of the works listed in a split file."""
    works = {w.strip() for w in split_file.read_text().splitlines() if w.strip()}
    with open(asap_root / "metadata.csv") as f:
        return [r for r in csv.DictReader(f) if r["folder"] in works]


@dataclass(frozen=True)
class Augmentation:
    """Ranges of the random changes applied to a training crop."""

    tempo: tuple[float, float] = (0.75, 1.3)
    jitter_s: float = 0.015
    transpose: int = 5
    drop: float = 0.08
    extra: float = 0.05
    velocity_scale: tuple[float, float] = (0.7, 1.3)
    sounding: float = 0.5  # share of crops whose notes end when the sound does (a transcription's input)


def augment(example: RhythmExample, rng: np.random.Generator, aug: Augmentation) -> RhythmExample:
    """A randomly changed copy: scaled tempo, jittered times, transposed, with notes dropped and added;
    a share of crops ends notes where the pedal releases them, as transcribed audio does."""
    keep = rng.random(len(example.onset)) >= rng.uniform(0, aug.drop)
    ex = example.take(np.flatnonzero(keep) if keep.any() else np.arange(len(example.onset)))
    scale = rng.uniform(*aug.tempo)
    shift = int(rng.integers(-aug.transpose, aug.transpose + 1))
    onset = ex.onset * scale + rng.normal(0, aug.jitter_s, len(ex.onset))
    offset = ex.sounding_offset if rng.random() < aug.sounding else ex.offset
    duration = np.maximum((offset - ex.onset) * scale * rng.uniform(0.7, 1.3, len(ex.onset)), 0.03)
    ex = replace(
        ex,
        onset=onset,
        offset=onset + duration,
        sounding_offset=onset + duration,
        pitch=np.clip(ex.pitch + shift, 21, 108),
        velocity=np.clip(ex.velocity * rng.uniform(*aug.velocity_scale), 1, 127),
        log_period=ex.log_period + np.float32(np.log(scale)),
        key=np.where(ex.key >= 0, (ex.key + 7 * shift) % 12, IGNORE),
    )
    ex = _with_extra_notes(ex, rng, rng.uniform(0, aug.extra))
    return ex.take(np.lexsort((ex.pitch, ex.onset)))


def _with_extra_notes(ex: RhythmExample, rng: np.random.Generator, share: float) -> RhythmExample:
    """Add spurious short notes near existing ones, as a transcriber's false positives; one struck with a
    note on a beat (within ON_BEAT_S) is on that beat too, as the labels define it."""
    n_extra = int(rng.binomial(len(ex.onset), share))
    if n_extra == 0:
        return ex
    near = rng.integers(0, len(ex.onset), n_extra)
    shift = rng.uniform(-0.1, 0.1, n_extra)
    onset = ex.onset[near] + shift
    with_note = np.abs(shift) <= ON_BEAT_S
    extra = RhythmExample(
        onset=onset,
        offset=(offset := onset + rng.uniform(0.03, 0.3, n_extra)),
        sounding_offset=offset,
        pitch=np.clip(ex.pitch[near] + rng.choice([-12, -1, 1, 7, 12, 19], n_extra), 21, 108),
        velocity=np.clip(ex.velocity[near] * rng.uniform(0.2, 0.8, n_extra), 1, 127),
        beat=np.where(with_note, ex.beat[near], 0).astype(np.float32),
        downbeat=np.where(with_note, ex.downbeat[near], 0).astype(np.float32),
        log_period=ex.log_period[near],
        time_signature=ex.time_signature[near],
        key=ex.key[near],
        hand=np.full(n_extra, IGNORE),
    )
    return RhythmExample(
        **{f.name: np.concatenate([getattr(ex, f.name), getattr(extra, f.name)]) for f in fields(ex)}
    )
