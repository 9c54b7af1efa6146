"""Velocity-dependent level and brightness on a render: soft notes quieter and darker, as on a real grand.

A real grand spans about 40 dB from pp to ff, and its soft notes have fewer upper partials. Our pianos do
not: the SoundFonts span about 36 dB (velocity 16 to 127) with one timbre for all velocities, the sampled
Salamander grand 13.5 dB (its layers are normalised). `render_with_velocity_timbre` renders the notes of each
velocity group apart (the renderers are linear: the groups add up to the whole), brings each group to the
level a target span asks for, darkens it by a spectral tilt that grows as the velocity falls, and mixes them.
The renderer's own span is measured once per piano (`measured_span_db`) so every piano ends at the target.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from notestream.notes import Note, Performance

SOFT, LOUD = 16, 127  # the velocities the span is measured between (pp .. fff)
PROBE_PITCH = 60
ATTACK_WINDOW = (0.0, 0.3)  # seconds after a probe note's onset that its level and centroid are measured over

Render = Callable[[Performance], np.ndarray]  # a performance -> mono float32 audio at the render's rate


@dataclass(frozen=True)
class VelocityTimbre:
    """Ranges drawn once per segment: the pp..fff level span to reach, in dB, and how much darker a
    velocity-16 note is (dB per octave above `corner_hz`; louder notes less, 127 not at all)."""

    span_db: tuple[float, float] = (34.0, 46.0)
    darkening_db_per_octave: tuple[float, float] = (0.0, 6.0)
    corner_hz: float = 500.0
    group_edges: tuple[int, ...] = (24, 32, 40, 48, 64, 80, 96)  # velocity groups rendered apart

    def draw(self, rng: np.random.Generator) -> tuple[float, float]:
        """(span dB, darkening dB/octave) for one segment."""
        return float(rng.uniform(*self.span_db)), float(rng.uniform(*self.darkening_db_per_octave))


def softness(velocity: float) -> float:
    """0 at velocity 127, 1 at 16, linear in log velocity between (and beyond, clamped)."""
    return float(np.clip(math.log(LOUD / max(velocity, 1.0)) / math.log(LOUD / SOFT), 0.0, 1.0))


def level_db(audio: np.ndarray) -> float:
    """RMS level in dB (full scale 1.0)."""
    return float(10 * np.log10(np.mean(np.square(audio, dtype=np.float64)) + 1e-20))


def spectral_centroid(audio: np.ndarray, sample_rate: int) -> float:
    """Power-weighted mean frequency in Hz: higher for brighter sound."""
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(audio.size, 1.0 / sample_rate)
    return float((power * freqs).sum() / max(power.sum(), 1e-20))


def probe_note(render: Render, velocity: int, sample_rate: int, pitch: int = PROBE_PITCH) -> np.ndarray:
    """The attack window of one note at `velocity`, rendered alone (onset 0.1 s, held 1 s)."""
    audio = render(Performance([Note(0.1, 1.1, pitch, velocity)], []))
    start, end = (int(round((0.1 + t) * sample_rate)) for t in ATTACK_WINDOW)
    return audio[start:end]


def measured_span_db(render: Render, sample_rate: int) -> float:
    """How many dB louder the renderer plays a velocity-127 note than a velocity-16 one."""
    return level_db(probe_note(render, LOUD, sample_rate)) - level_db(probe_note(render, SOFT, sample_rate))


def darken(audio: np.ndarray, db_per_octave: float, corner_hz: float, sample_rate: int) -> np.ndarray:
    """Attenuate by `db_per_octave` per octave above `corner_hz` (nothing below): fewer upper partials."""
    if db_per_octave == 0.0 or audio.size == 0:
        return audio
    spectrum = np.fft.rfft(audio)
    octaves = np.log2(np.maximum(np.fft.rfftfreq(audio.size, 1.0 / sample_rate), corner_hz) / corner_hz)
    return np.fft.irfft(spectrum * 10 ** (-db_per_octave * octaves / 20), n=audio.size).astype(np.float32)


def velocity_groups(notes: list[Note], edges: tuple[int, ...]) -> list[list[Note]]:
    """The notes split at the velocity `edges` (a note of velocity e goes above edge e); empty groups dropped."""
    groups: dict[int, list[Note]] = {}
    for note in notes:
        groups.setdefault(int(np.searchsorted(edges, note.velocity, side="right")), []).append(note)
    return [groups[k] for k in sorted(groups)]


def render_with_velocity_timbre(performance: Performance, render: Render, own_span_db: float, span_db: float,
                                darkening_db_per_octave: float, sample_rate: int,
                                config: VelocityTimbre = VelocityTimbre()) -> np.ndarray:
    """The performance rendered group by group, each group moved to the level `span_db` asks for (0 dB at
    velocity 127; the renderer's `own_span_db` already in the audio) and darkened by its softness."""
    out: np.ndarray | None = None
    for notes in velocity_groups(performance.notes, config.group_edges):
        s = softness(float(np.mean([n.velocity for n in notes])))
        audio = render(Performance(notes, performance.pedals))
        audio = darken(audio, darkening_db_per_octave * s, config.corner_hz, sample_rate)
        audio = audio * np.float32(10 ** (-(span_db - own_span_db) * s / 20))
        out = audio if out is None else out + audio
    return out if out is not None else render(performance)
