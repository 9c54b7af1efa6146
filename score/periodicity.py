"""Note-sequence cues that a beat needs more than one neighbour to see: the onset events (chords) a note belongs
to, and how strongly the events around each note recur at each of a set of log-spaced periods.

The periodicity is an inter-onset-interval histogram over all pairs of events up to MAX_PERIOD apart, not only
neighbours (the cue classic tempo induction starts from), taken in a Gaussian window of time around each note.
A tempo change shifts it along the period axis, so the network can read periods relative to one another.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

CHORD_SPREAD = 0.035  # s: onsets closer than this to the previous one are struck together
MIN_PERIOD, MAX_PERIOD = 0.1, 3.0  # s: the histogram's first and last bin centres
GRID = 0.125  # s: time step of the windowed histogram before it is read at each note
WINDOW = 2.0  # s: standard deviation of the window of time around a note


def onset_events(onsets: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sorted onsets (N,) -> (event index of each onset (N,), number of onsets in each event (E,), each event's
    time, its first onset (E,)).

    An event starts at an onset CHORD_SPREAD or more after the previous onset."""
    onsets = np.asarray(onsets, np.float64)
    starts = np.r_[True, np.diff(onsets) >= CHORD_SPREAD] if len(onsets) else np.zeros(0, bool)
    event = np.cumsum(starts) - 1
    return event, np.bincount(event, minlength=int(starts.sum())), onsets[starts]


def event_pairs(times: np.ndarray, horizon: float) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b), a < b, of sorted times (E,) at most `horizon` apart."""
    ends = np.searchsorted(times, times + horizon, side="right")
    counts = ends - np.arange(len(times)) - 1
    first = np.repeat(np.arange(len(times)), counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return first, first + 1 + within


def periodicity(onsets: np.ndarray, bins: int) -> np.ndarray:
    """Sorted onsets (N,) -> (N, bins) float32: each note's windowed histogram of event intervals over `bins`
    log-spaced periods from MIN_PERIOD to MAX_PERIOD, per second of interval (so it is the events'
    autocorrelation at those lags, not growing with the bin's width), scaled so its largest bin is 1 (zeros
    where no pair is near). A pair counts by the square root of its two events' sizes, so chords weigh more
    than passing notes."""
    out = np.zeros((len(onsets), bins), np.float32)
    if bins < 2 or len(onsets) < 2:
        return out
    onsets = np.asarray(onsets, np.float64)
    _, size, times = onset_events(onsets)
    first, second = event_pairs(times, MAX_PERIOD * 1.2)
    if not len(first):
        return out
    centres = np.linspace(np.log(MIN_PERIOD), np.log(MAX_PERIOD), bins)
    spacing = centres[1] - centres[0]
    interval = np.log(times[second] - times[first])
    kernel = np.exp(-0.5 * ((interval[:, None] - centres) / spacing) ** 2) / np.exp(centres)  # per second of lag
    kernel *= np.sqrt(size[first] * size[second])[:, None]
    cell = np.round(((times[first] + times[second]) / 2 - times[0]) / GRID).astype(int)
    histogram = np.zeros((int(np.round((times[-1] - times[0]) / GRID)) + 1, bins))
    np.add.at(histogram, cell, kernel)
    histogram = gaussian_filter1d(histogram, WINDOW / GRID, axis=0, mode="constant")
    at_note = histogram[np.minimum(np.round((onsets - times[0]) / GRID).astype(int), len(histogram) - 1)]
    out[:] = at_note / np.maximum(at_note.max(axis=1, keepdims=True), 1e-6)
    return out


def event_features(onsets: np.ndarray, pitches: np.ndarray) -> np.ndarray:
    """Sorted onsets (N,) and their pitches -> (N, 4) float32: log gaps from the note's event to the previous
    and next event (a chord's upper notes see their chord's gap, not 0), log size of its event, and whether
    the note is its event's lowest."""
    out = np.zeros((len(onsets), 4), np.float32)
    if not len(onsets):
        return out
    event, size, times = onset_events(onsets)
    before = np.diff(times, prepend=times[0])
    after = np.diff(times, append=times[-1])
    lowest = np.full(len(times), np.inf)
    np.minimum.at(lowest, event, pitches)
    out[:, 0] = np.log(np.clip(before[event], 0, 4) + 0.01)
    out[:, 1] = np.log(np.clip(after[event], 0, 4) + 0.01)
    out[:, 2] = np.log(size[event])
    out[:, 3] = pitches == lowest[event]
    return out
