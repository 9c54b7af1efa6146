"""Score → performance, the way a pianist plays it: tempo drift and rubato, onset jitter with chord spread
and melody lead, dynamics from phrase and metre, articulation, and sustain pedal changed with the harmony.

Score MIDI is mechanical (every chord exact, one velocity, no pedal); a model trained on it learns a piano
nobody plays. Everything is drawn from one seed, so a performance is reproducible. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from notestream.notes import MAX_PITCH, MIN_PITCH, Note, PedalSpan, Performance

LEAD_IN_SECONDS = 0.5  # silence before the first note, as when a pianist starts
GRACE_SECONDS = 0.06  # each grace note sounds this long before its main note
MIN_NOTE_SECONDS = 0.04
MIN_PEDAL_REGION_SECONDS = 0.3  # no pedal change for shorter harmonies (fast passages)


@dataclass(frozen=True)
class ScoreNote:
    """A written note: times in quarter notes; duration 0 marks a grace note."""

    onset: float
    duration: float
    pitch: int
    strength: float = 0.5  # metric weight, 1 on the downbeat (music21's beatStrength)
    staccato: bool = False
    hand: int | None = None  # the hand that plays it as written: 1 right, 0 left, None unknown


@dataclass(frozen=True)
class Score:
    """The written notes of a piece, its bar lines (quarter offsets) and its nominal tempo."""

    notes: tuple[ScoreNote, ...]
    bars: tuple[float, ...]
    quarter_bpm: float
    written_bars: tuple[WrittenBar, ...] = ()  # the bars' metre and key, where the source gives them


@dataclass(frozen=True)
class WrittenBar:
    """One written bar: where it starts (quarter notes), how long it is, how much of a full bar is missing
    before it (a pickup), its time signature ('6/8') and key signature in fifths."""

    offset: float
    length: float
    pickup: float
    time_signature: str
    key_fifths: int | None


@dataclass(frozen=True)
class Style:
    """How one performance plays a score; `draw_style` draws one per seed."""

    tempo_factor: float = 1.0  # times the nominal tempo
    drift: float = 0.04  # relative tempo wander between bars
    phrase_bars: int = 4
    ritardando: float = 0.12  # slowing over the last bar of a phrase (relative)
    jitter_ms: float = 8.0
    chord_spread_ms: float = 12.0
    melody_lead_ms: float = 15.0
    dynamic: float = 68.0  # mean velocity
    dynamic_range: float = 14.0  # phrase swell, velocity steps
    accent: float = 10.0  # downbeat over offbeat, velocity steps
    legato: float = 1.0  # sounding / written length of unmarked notes (> 1 overlaps)
    pedal: float = 0.6  # probability of pedalling one harmony


def draw_style(rng: np.random.Generator) -> Style:
    """A plausible pianist: each trait drawn independently from the range players actually use."""
    return Style(
        tempo_factor=float(rng.uniform(0.85, 1.12)), drift=float(rng.uniform(0.02, 0.07)),
        phrase_bars=int(rng.choice([2, 4, 4, 8])), ritardando=float(rng.uniform(0.03, 0.25)),
        jitter_ms=float(rng.uniform(3.0, 12.0)), chord_spread_ms=float(rng.uniform(3.0, 25.0)),
        melody_lead_ms=float(rng.uniform(0.0, 25.0)), dynamic=float(rng.uniform(48.0, 88.0)),
        dynamic_range=float(rng.uniform(6.0, 22.0)), accent=float(rng.uniform(4.0, 16.0)),
        legato=float(rng.uniform(0.8, 1.12)), pedal=0.0 if rng.random() < 0.15 else float(rng.uniform(0.4, 0.95)),
    )


def tempo_map(score: Score, style: Style, rng: np.random.Generator, step: float = 1 / 16) -> tuple[np.ndarray, np.ndarray]:
    """(quarter positions, seconds): drift between bars, ritardando at phrase ends and at the close."""
    end = max([n.onset + n.duration for n in score.notes] + [0.0]) + 1.0
    grid = np.arange(0.0, end + step, step)
    bars = np.array(sorted({*score.bars, 0.0}) + [end])
    wander = np.zeros(bars.size)
    for i in range(1, bars.size):  # mean-reverting: the tempo wanders and comes back
        wander[i] = 0.7 * wander[i - 1] + rng.normal(0.0, style.drift)
    slow = np.exp(-np.interp(grid, bars, wander))  # seconds per quarter, relative
    for i in range(style.phrase_bars, bars.size, style.phrase_bars):  # phrase ends: slow over the bar before
        lo, hi = bars[i - 1], bars[i]
        inside = (grid >= lo) & (grid < hi)
        slow[inside] *= 1 + style.ritardando * ((grid[inside] - lo) / max(hi - lo, 1e-6)) ** 2
    last = bars[-3] if bars.size > 2 else 0.0
    closing = grid >= last
    slow[closing] *= 1 + 0.3 * ((grid[closing] - last) / max(end - last, 1e-6)) ** 2
    seconds_per_quarter = 60.0 / (score.quarter_bpm * style.tempo_factor) * slow
    seconds = np.concatenate([[0.0], np.cumsum(seconds_per_quarter[:-1] * step)]) + LEAD_IN_SECONDS
    return grid, seconds


def _onsets(score: Score, at: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Played onsets: chords spread upwards with the top note leading, then jittered within the gap
    to the neighbouring chords, so written order is kept."""
    times = np.unique(at)
    gaps = np.diff(times, prepend=-np.inf, append=np.inf)
    room = 0.4 * np.minimum(gaps[:-1], gaps[1:])  # how far a chord's notes may move
    out = at.copy()
    pitches = np.array([n.pitch for n in score.notes])
    for k, t in enumerate(times):
        idx = np.flatnonzero(at == t)
        idx = idx[np.argsort(pitches[idx])]
        spread = abs(rng.normal(0.0, style.chord_spread_ms)) / 1000 * np.linspace(0.0, 1.0, idx.size)
        shift = spread - spread.mean() + rng.normal(0.0, style.jitter_ms / 1000, idx.size)
        if idx.size > 1:
            shift[-1] = -style.melody_lead_ms / 1000 + rng.normal(0.0, style.jitter_ms / 2000)
        out[idx] = t + np.clip(shift, -room[k], room[k])
    return out


def _phrase_position(onsets: np.ndarray, bars: np.ndarray, phrase_bars: int) -> np.ndarray:
    """Where each onset lies in its phrase of `phrase_bars` bars, 0 at the start to 1 at the end."""
    edges = np.append(bars, max(bars[-1], onsets.max(initial=0.0)) + 4.0)
    first = (np.searchsorted(bars, onsets, side="right") - 1) // phrase_bars * phrase_bars
    start, end = edges[first], edges[np.minimum(first + phrase_bars, edges.size - 1)]
    return np.clip((onsets - start) / np.maximum(end - start, 1e-6), 0.0, 1.0)


def _velocities(score: Score, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Phrase swell and a slow random dynamic curve, metric accents, melody above inner voices."""
    onsets = np.array([n.onset for n in score.notes])
    pitches = np.array([n.pitch for n in score.notes])
    bars = np.array(sorted({*score.bars, 0.0}))
    swell = style.dynamic_range * (np.sin(np.pi * _phrase_position(onsets, bars, style.phrase_bars)) - 0.5)
    curve = np.interp(onsets, bars, rng.normal(0.0, style.dynamic_range / 2, bars.size))
    accent = style.accent * (np.array([n.strength for n in score.notes]) - 0.5)
    voice = np.zeros(onsets.size)
    for t in np.unique(onsets):
        idx = np.flatnonzero(onsets == t)
        if idx.size > 1:
            voice[idx] = -4.0
            voice[idx[np.argmax(pitches[idx])]] = 8.0
            voice[idx[np.argmin(pitches[idx])]] = 2.0
    raw = style.dynamic + swell + curve + accent + voice + rng.normal(0.0, 4.0, onsets.size)
    return np.clip(np.round(raw), 12, 120).astype(int)


def _offsets(score: Score, onsets: np.ndarray, written_end: np.ndarray, style: Style, rng: np.random.Generator) -> np.ndarray:
    """Legato (a little overlap), plain, or staccato lengths; a key is released before it is struck again."""
    written = written_end - onsets
    legato = style.legato * rng.uniform(0.93, 1.07, onsets.size)
    length = np.minimum(written * legato, written + 0.06)
    staccato = np.array([n.staccato for n in score.notes])
    length[staccato] = np.minimum(written[staccato] * rng.uniform(0.3, 0.55, staccato.sum()), 0.2)
    offsets = onsets + np.maximum(length, MIN_NOTE_SECONDS)
    pitches = np.array([n.pitch for n in score.notes])
    for pitch in np.unique(pitches):
        idx = np.flatnonzero(pitches == pitch)
        idx = idx[np.argsort(onsets[idx])]
        nxt = onsets[idx[1:]] - 0.005
        offsets[idx[:-1]] = np.maximum(np.minimum(offsets[idx[:-1]], nxt), onsets[idx[:-1]] + 0.005)
    return offsets


def harmony_changes(score: Score) -> list[float]:
    """Quarter offsets where a pianist changes pedal: bar lines and beats where the bass moves."""
    changes = set(score.bars)
    bass: dict[float, int] = {}
    for n in score.notes:
        if n.duration > 0:
            bass[n.onset] = min(bass.get(n.onset, 128), n.pitch)
    previous = None
    for onset in sorted(bass):
        if previous is not None and bass[onset] % 12 != previous % 12:
            changes.add(onset)
        previous = bass[onset]
    return sorted(changes)


def _pedals(changes: np.ndarray, end: float, style: Style, rng: np.random.Generator) -> list[PedalSpan]:
    """Syncopated pedalling: lift as the new harmony sounds, press again 40-120 ms later."""
    bounds = np.append(changes, end)
    spans = []
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):
        if stop - start < MIN_PEDAL_REGION_SECONDS or rng.random() >= style.pedal:
            continue
        down, up = start + rng.uniform(0.04, 0.12), stop + rng.uniform(-0.01, 0.03)
        if spans and down < spans[-1].offset + 0.03:
            down = spans[-1].offset + 0.03
        if up - down > 0.1:
            spans.append(PedalSpan(float(down), float(up)))
    return spans


@dataclass(frozen=True)
class PlayedScore:
    """A performance of a score and where it came from: the written note of each performance note, and the
    tempo map (quarter positions -> seconds) it was played at."""

    performance: Performance
    written: np.ndarray  # (N,) index into score.notes of each of performance.notes
    quarters: np.ndarray  # (T,) tempo map grid
    seconds: np.ndarray  # (T,)

    def seconds_at(self, quarters: np.ndarray) -> np.ndarray:
        """When written positions (quarter notes) were played."""
        return np.interp(quarters, self.quarters, self.seconds)


def humanize(score: Score, seed: int, style: Style | None = None) -> Performance:
    """One performance of `score`: the same seed (and style) gives the same notes and pedal."""
    return play(score, seed, style).performance


def play(score: Score, seed: int, style: Style | None = None) -> PlayedScore:
    """`humanize`, keeping the written note of every played one and the tempo map."""
    rng = np.random.default_rng(seed)
    style = style or draw_style(rng)
    kept = np.array([i for i, n in enumerate(score.notes) if MIN_PITCH <= n.pitch <= MAX_PITCH], dtype=int)
    if not kept.size:
        return PlayedScore(Performance(), kept, np.zeros(1), np.zeros(1))
    notes = tuple(score.notes[i] for i in kept)
    score = Score(notes, score.bars, score.quarter_bpm)
    grid, seconds = tempo_map(score, style, rng)
    at = np.interp([n.onset for n in notes], grid, seconds)
    written_end = np.interp([n.onset + n.duration for n in notes], grid, seconds)
    onsets = _onsets(score, at, style, rng)
    grace = np.array([n.duration == 0 for n in notes])
    onsets[grace] = at[grace] - GRACE_SECONDS * rng.uniform(0.7, 1.3, grace.sum())
    written_end[grace] = at[grace]
    offsets = _offsets(score, onsets, np.maximum(written_end, onsets + MIN_NOTE_SECONDS), style, rng)
    velocities = _velocities(score, style, rng)
    played = [Note(float(a), float(b), n.pitch, int(v)) for a, b, n, v in zip(onsets, offsets, notes, velocities, strict=True)]
    end = max(n.offset for n in played)
    pedals = _pedals(np.interp(harmony_changes(score), grid, seconds), end, style, rng)
    order = sorted(range(len(played)), key=played.__getitem__)
    return PlayedScore(Performance([played[i] for i in order], pedals), kept[order], grid, seconds)
