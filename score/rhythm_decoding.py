"""From the rhythm network's per-note outputs to beats, a metre, a key and hands.

Beats (`decode_beats`, the sheet's beats at BEAT_SOURCE): chords whose beat probability passes a threshold
become beats (of two closer than half a beat the likelier stays), gaps of several predicted beat periods
are filled evenly, and the grid is extended to cover every note. Metre: the time signature most notes vote for, and the downbeat phase whose beats carry
the most downbeat probability. Key: the key signature most notes vote for, its mode from the pitch
classes. Hands: each chord is split at the pitch where the hand probabilities say so. A user's tempo
(`RhythmHint`) rescales the network's beat periods before decoding; a user's time signature replaces the vote.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
import torch

from notestream.notes import Note

from .beats import beat_times
from .chords import group_chords
from .key import KeyEstimate, key_from_tonic, pitch_class_weights, profile_fits, signature_major_tonic
from .meter import BEAT_SHAPES, Meter, RhythmHint
from .rhythm_net import DEFAULT_CHECKPOINT, RhythmModel, RhythmPrediction, load_rhythm_net, predict_rhythm

BEAT_THRESHOLD = 0.5
# Where the sheet's beats come from: None = the onset-envelope tracker, a number = the network's beats at that
# threshold (decode_beats); chosen on the validation works (notestream_bench.beat_source_sweep).
BEAT_SOURCE: float | None = 0.3
DOWNBEAT_WINDOW_S = 0.05
# Changes of metre (decode_meter_changes), chosen on 30 validation performances (benchmarks/RESULTS.md,
# notestream_bench.meter_change_sweep): the one setting that raised both downbeat F and time-signature agreement.
CHANGE_MIN_BARS = 8
CHANGE_MARGIN = 0.1
METER_CHANGES = True
# How much the pitch classes' fit to a key signature's profiles weighs beside the network's vote, chosen on the
# validation works: whole performances unchanged (key 0.926), 30 s windows of them 0.519 -> 0.561.
KEY_PROFILE_WEIGHT = 2.0


def chord_beats(notes: list[Note], prediction: RhythmPrediction) -> tuple[np.ndarray, ...]:
    """Per chord (notes struck together): onset, beat probability and beat period, in time order."""
    groups = group_chords(notes)
    times = np.array([min(notes[i].onset for i in g) for g in groups])
    beat = np.array([prediction.beat[g].max() for g in groups])
    period = np.array([float(np.median(prediction.period[g])) for g in groups])
    return times, beat, period


def decode_beats(notes: list[Note], prediction: RhythmPrediction, threshold: float = BEAT_THRESHOLD) -> np.ndarray:
    """Beat times in seconds, covering every note: likely beat chords, gaps of several predicted periods
    filled evenly."""
    times, beat, period = chord_beats(notes, prediction)
    chosen: list[int] = []
    for i in np.flatnonzero(beat >= threshold):
        if chosen and times[i] - times[chosen[-1]] < 0.5 * period[i]:
            if beat[i] > beat[chosen[-1]]:
                chosen[-1] = i
            continue
        chosen.append(int(i))
    if len(chosen) < 2:
        step = float(np.median(period)) if len(period) else 0.5
        return _extend(np.array([times[0] if len(times) else 0.0]), step, step, notes)
    beats = [times[chosen[0]]]
    for a, b in zip(chosen, chosen[1:], strict=False):
        count = max(1, int(round((times[b] - times[a]) / ((period[a] + period[b]) / 2))))
        beats += list(np.linspace(times[a], times[b], count + 1)[1:])
    return _extend(np.array(beats), float(period[chosen[0]]), float(period[chosen[-1]]), notes)


def _extend(beats: np.ndarray, head: float, tail: float, notes: list[Note]) -> np.ndarray:
    """Beats prepended and appended at the edge periods until the first onset and last offset lie inside."""
    first = min((n.onset for n in notes), default=beats[0])
    end = max((n.offset for n in notes), default=beats[-1])
    before = int(np.ceil(max(0.0, beats[0] - first) / head - 1e-6))
    after = int(np.ceil(max(0.0, end - beats[-1]) / tail)) + 1
    return np.concatenate([beats[0] - head * np.arange(before, 0, -1), beats, beats[-1] + tail * np.arange(1, after + 1)])


def voted_time_signature(prediction: RhythmPrediction) -> str:
    """The time signature with the highest mean probability over the notes."""
    return prediction.time_signatures[int(np.argmax(prediction.time_signature.mean(axis=0)))]


def with_tempo(prediction: RhythmPrediction, beat_period: float) -> RhythmPrediction:
    """The prediction with its beat periods scaled so their median is `beat_period` (seconds): the user's
    tempo sets the beat's metrical level, the network's local periods keep the rubato."""
    median = float(np.median(prediction.period)) if len(prediction.period) else beat_period
    return replace(prediction, period=prediction.period * (beat_period / median))


def decode_meter(
    notes: list[Note], prediction: RhythmPrediction, beats: np.ndarray, signature: str | None = None,
) -> Meter:
    """Time signature by vote (or the given `signature`), then the downbeat phase with the highest mean
    downbeat probability."""
    signature = signature or voted_time_signature(prediction)
    per_bar = Meter(signature, 0).beats_per_bar
    strength = np.zeros(len(beats))
    onsets = np.array([n.onset for n in notes])
    nearest = np.clip(np.searchsorted(beats, onsets), 0, len(beats) - 1)
    for candidate in (nearest - 1, nearest):
        candidate = np.clip(candidate, 0, len(beats) - 1)
        close = np.abs(beats[candidate] - onsets) <= DOWNBEAT_WINDOW_S
        np.maximum.at(strength, candidate[close], prediction.downbeat[close])
    phases = [strength[p::per_bar].mean() if len(strength[p::per_bar]) else 0.0 for p in range(per_bar)]
    return Meter(signature, int(np.argmax(phases)))


def beat_signature_probabilities(notes: list[Note], prediction: RhythmPrediction, beats: np.ndarray) -> np.ndarray:
    """(len(beats), len(time_signatures)) mean time-signature probability of the notes struck in each beat;
    a beat without notes takes its nearest neighbour's."""
    onsets = np.array([n.onset for n in notes])
    owner = np.clip(np.searchsorted(beats, onsets + DOWNBEAT_WINDOW_S, side="right") - 1, 0, len(beats) - 1)
    sums = np.zeros((len(beats), prediction.time_signature.shape[1]))
    np.add.at(sums, owner, prediction.time_signature)
    counts = np.bincount(owner, minlength=len(beats))
    heard = np.flatnonzero(counts)
    nearest = heard[np.clip(np.searchsorted(heard, np.arange(len(beats))), 0, len(heard) - 1)]
    return sums[nearest] / counts[nearest][:, None]


def decode_meter_changes(
    notes: list[Note], prediction: RhythmPrediction, beats: np.ndarray, meter: Meter,
    min_bars: int = CHANGE_MIN_BARS, margin: float = CHANGE_MARGIN,
) -> Meter:
    """`meter` with changes of metre where the network's per-note time signature changes stably.

    Walking bar by bar from the first downbeat, the metre changes at a bar line when, over the next
    `min_bars` bars of another signature with the same beat, that signature's mean probability beats the
    current one's by more than `margin`, and already does in the first of those bars (so the change lands
    where the new metre begins); after a change the next may come only `min_bars` bars later.
    """
    probs = beat_signature_probabilities(notes, prediction, beats)
    names = prediction.time_signatures
    options = [k for k, s in enumerate(names) if s in BEAT_SHAPES
               and BEAT_SHAPES[s][1] == meter.beat_quarter_length]
    current, changes, beat, quiet_until = names.index(meter.time_signature), [], meter.first_downbeat, 0
    while beat < len(beats):
        if beat >= quiet_until:
            best, gain = current, margin
            for k in options:
                per_bar = BEAT_SHAPES[names[k]][0]
                window = probs[beat : beat + min_bars * per_bar, k] - probs[beat : beat + min_bars * per_bar, current]
                full = len(window) == min_bars * per_bar
                if k != current and full and window[:per_bar].mean() > 0 and window.mean() > gain:
                    best, gain = k, window.mean()
            if best != current:
                current = best
                changes.append((beat, names[best]))
                quiet_until = beat + min_bars * BEAT_SHAPES[names[best]][0]
        beat += BEAT_SHAPES[names[current]][0]
    return Meter(meter.time_signature, meter.first_downbeat, tuple(changes))


def decode_key(notes: list[Note], prediction: RhythmPrediction) -> KeyEstimate:
    """The key signature best supported by the network's vote (log mean probability) and, weighted by
    KEY_PROFILE_WEIGHT, by how well the pitch classes fit its major or minor profile; the mode by which fits
    better."""
    fits = profile_fits(pitch_class_weights(notes))
    score = np.log(prediction.key.mean(axis=0) + 1e-6) + KEY_PROFILE_WEIGHT * fits.max(axis=1)
    fifths_class = int(np.argmax(score))
    fifths = fifths_class if fifths_class <= 5 else fifths_class - 12
    major_tonic = signature_major_tonic(fifths_class)
    major, minor = fits[fifths_class] if fits.any() else (1.0, 0.0)
    key = key_from_tonic(major_tonic, "major") if major >= minor else key_from_tonic((major_tonic + 9) % 12, "minor")
    return KeyEstimate(key.tonic, key.mode, fifths)


def decode_hands(notes: list[Note], prediction: RhythmPrediction) -> list[int]:
    """Hand of each note (0 left, 1 right): every chord split at one pitch, where the network agrees most."""
    hands = [0] * len(notes)
    right = np.clip(prediction.hand, 1e-4, 1 - 1e-4)
    for group in group_chords(notes):
        p = right[group]
        costs = [-np.log(1 - p[:k]).sum() - np.log(p[k:]).sum() for k in range(len(group) + 1)]
        split = int(np.argmin(costs))
        for rank, i in enumerate(group):
            hands[i] = int(rank >= split)
    return hands


@dataclass(frozen=True)
class RhythmAnalysis:
    """What the sheet needs from the rhythm network: beat times, metre, key and each note's hand."""

    beats: np.ndarray
    meter: Meter
    key: KeyEstimate
    hands: list[int]


@lru_cache(maxsize=1)
def shipped_rhythm_net() -> RhythmModel:
    """The rhythm model shipped with notestream (score/weights/rhythm.pt, an ensemble), loaded once."""
    torch.set_num_threads(1)
    return load_rhythm_net(DEFAULT_CHECKPOINT)


def analyse_rhythm(
    notes: list[Note], net: RhythmModel | None = None, meter_changes: bool = METER_CHANGES,
    beat_source: float | None = BEAT_SOURCE, hint: RhythmHint | None = None,
) -> RhythmAnalysis:
    """Beats, metre, key and hands of a performance (at least one note).

    Each part comes from whichever source scored better on the validation works (docs/training-log.md):
    beats from `beat_source` (None: the onset-envelope tracker; a number: the network's beats at that
    threshold), time signature, downbeats, key signature and hands from the network. With `meter_changes` the metre may change where the network's
    time signature changes stably (decode_meter_changes); otherwise one metre holds for the whole piece.
    A `hint`'s tempo sets the network's beat level (`with_tempo`; the tracker ignores it), its time signature
    holds for the whole piece.
    """
    hint = hint or RhythmHint()
    prediction = predict_rhythm(net or shipped_rhythm_net(), notes)
    if hint.beat_period is not None:
        prediction = with_tempo(prediction, hint.beat_period)
    beats = beat_times(notes) if beat_source is None else decode_beats(notes, prediction, beat_source)
    meter = decode_meter(notes, prediction, beats, hint.time_signature)
    if meter_changes and hint.time_signature is None:
        meter = decode_meter_changes(notes, prediction, beats, meter)
    return RhythmAnalysis(beats, meter, decode_key(notes, prediction), decode_hands(notes, prediction))
