"""Render a Performance with a multi-sampled piano: a folder of recorded notes, one file per key and loudness.

SoundFont pianos are small and synthetic; a sampled grand (e.g. the Salamander Grand Piano, a Yamaha C5
recorded at 16 velocities every minor third) is the nearest we get to a real instrument without recordings.
The folder holds `<note><octave>v<layer>.<ext>` (e.g. `C4v10.ogg`, `D#1v3.ogg`; layer 1 is the softest) and
optionally `rel<key>.<ext>` damper-release noises (key 1 = A0). How a note sounds:

- the nearest recorded key, re-pitched by resampling (plus the render's detune);
- the layer of its velocity (layers spread evenly over 1..127), scaled a little within the layer; a folder
  of one layer (e.g. the University of Iowa Steinway, recorded ff only) gets all its dynamics from gain;
- it rings until the key is released, or while the sustain pedal holds it, or until the key is struck
  again; then the damper stops it over a pitch-dependent time (bass strings ring longer) and the
  release noise sounds; keys from F#6 up have no dampers and ring out, as on a grand.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from notestream.audio import AUDIO_EXTENSIONS, decode_audio
from notestream.notes import Note, PedalSpan, Performance

NOTE_FILE = re.compile(r"^([A-G])(#|b)?(-?\d)v(\d+)$")
RELEASE_FILE = re.compile(r"^rel(\d+)$")
SEMITONES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
FIRST_UNDAMPED_KEY = 90  # F#6: the top strings of a grand have no dampers
RESTRIKE_FADE_SECONDS = 0.03
RELEASE_NOISE_GAIN = 0.08  # damper noise peak relative to the note's own peak


def key_of(name: str, accidental: str | None, octave: int) -> int:
    """MIDI key of a note name (C4 = 60)."""
    return 12 * (octave + 1) + SEMITONES[name] + (1 if accidental == "#" else -1 if accidental == "b" else 0)


def damping_seconds(pitch: int) -> float:
    """Time constant of the damper on a key: about 0.3 s in the low bass down to 0.04 s in the treble."""
    return float(np.interp(pitch, [21, 60, 89], [0.3, 0.1, 0.04]))


@dataclass(frozen=True)
class SampleIndex:
    """Which files a sampled-piano folder holds."""

    notes: dict[tuple[int, int], Path]  # (key, layer) -> file
    releases: dict[int, Path]  # key -> file

    @property
    def keys(self) -> list[int]:
        return sorted({k for k, _ in self.notes})

    @property
    def layers(self) -> int:
        return max(layer for _, layer in self.notes)


def index_samples(folder: Path) -> SampleIndex:
    """Parse the folder's file names; fail clearly when it holds no note samples."""
    notes, releases = {}, {}
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in AUDIO_EXTENSIONS:
            continue
        if m := NOTE_FILE.match(path.stem):
            notes[(key_of(m[1], m[2], int(m[3])), int(m[4]))] = path
        elif m := RELEASE_FILE.match(path.stem):
            releases[20 + int(m[1])] = path
    if not notes:
        raise FileNotFoundError(f"{folder}: no note samples named like C4v10.ogg (see model/README.md, sampled pianos)")
    return SampleIndex(notes, releases)


def layer_of(velocity: int, layers: int) -> int:
    """Velocity layer (1-based): layers of 128 / layers velocities each (16 layers: 1-8, 9-16, ..., 121-127)."""
    return int(np.clip(np.ceil(velocity * layers / 128), 1, layers))


def velocity_gain(velocity: int, layers: int) -> float:
    """Amplitude of a note relative to its layer's sample. With several layers the samples carry the dynamics
    and the gain only spreads the velocities within a layer (square root); a single layer cannot, so it
    follows the General MIDI curve (velocity / 127) squared, 40·log10 dB: -24 dB at velocity 32."""
    if layers == 1:
        return (velocity / 127) ** 2
    layer_top = layer_of(velocity, layers) * 128 / layers
    return (velocity / layer_top) ** 0.5


def sounding_end(note: Note, pedals: list[PedalSpan]) -> float:
    """When the damper falls unless the key is struck again: at key release, or later while the pedal holds it.

    `pedals` in time order, so a press that follows straight on from a release keeps holding the note.
    """
    end = note.offset
    for span in pedals:
        if span.onset <= end < span.offset:
            end = span.offset
    return end


def repitch(sample: np.ndarray, ratio: float, skip: float, length: int) -> np.ndarray:
    """`length` samples of `sample` played `ratio` times faster, starting `skip` output samples in."""
    positions = (np.arange(length) + skip) * ratio
    return np.interp(positions, np.arange(sample.size), sample, right=0.0).astype(np.float32)


class SampledPiano:
    """Loads a sampled-piano folder lazily (each file decoded once at the render rate) and renders performances."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.index = index_samples(self.folder)
        self._keys = np.array(self.index.keys)
        self._top_layer = self.index.layers
        self._layers = {key: sorted(layer for k, layer in self.index.notes if k == key) for key in self.index.keys}
        self._cache: dict[tuple[Path, int], np.ndarray] = {}

    def _load(self, path: Path, sample_rate: int) -> np.ndarray:
        if (path, sample_rate) not in self._cache:
            audio = decode_audio(path, sample_rate)
            loud = np.flatnonzero(np.abs(audio) > 0.01 * (np.abs(audio).max() or 1.0))
            start = max(0, int(loud[0]) - sample_rate // 500) if loud.size else 0  # keep 2 ms before the attack
            self._cache[(path, sample_rate)] = audio[start:]
        return self._cache[(path, sample_rate)]

    def _note_sample(self, pitch: int, velocity: int, sample_rate: int) -> tuple[np.ndarray, int]:
        source = int(self._keys[np.argmin(np.abs(self._keys - pitch))])
        wanted = layer_of(velocity, self._top_layer)
        layer = min(self._layers[source], key=lambda v: abs(v - wanted))
        return self._load(self.index.notes[(source, layer)], sample_rate), source

    def render(self, performance: Performance, sample_rate: int, duration: float, detune_cents: float = 0.0) -> np.ndarray:
        """Mono float32 audio of `duration` seconds; notes with negative onsets start part-way into their sound."""
        total = int(round(duration * sample_rate))
        out = np.zeros(total, np.float32)
        pedals = sorted(performance.pedals)
        by_key: dict[int, list[Note]] = {}
        for note in sorted(performance.notes):
            by_key.setdefault(note.pitch, []).append(note)
        for key_notes in by_key.values():
            onsets = [n.onset for n in key_notes]
            for i, note in enumerate(key_notes):
                following = bisect_right(onsets, note.onset, lo=i + 1)
                next_onset = onsets[following] if following < len(onsets) else None
                free_end = sounding_end(note, pedals)
                restruck = next_onset is not None and next_onset < free_end
                self._add_note(out, note, next_onset if restruck else free_end, restruck, sample_rate, detune_cents)
        return out

    def _add_note(self, out: np.ndarray, note: Note, end: float, restruck: bool, sample_rate: int, detune_cents: float) -> None:
        sample, source = self._note_sample(note.pitch, note.velocity, sample_rate)
        ratio = 2.0 ** ((note.pitch - source) / 12 + detune_cents / 1200)
        undamped = note.pitch >= FIRST_UNDAMPED_KEY and not restruck
        tau = RESTRIKE_FADE_SECONDS if restruck else damping_seconds(note.pitch)
        natural = sample.size / ratio / sample_rate
        stop = note.onset + natural if undamped else min(note.onset + natural, end + 7 * tau)
        first = max(0, int(round(note.onset * sample_rate)))
        last = min(out.size, int(round(stop * sample_rate)))
        if last <= first:
            return
        skip = first - note.onset * sample_rate
        voice = repitch(sample, ratio, skip, last - first)
        if not undamped:
            t = (first + np.arange(last - first)) / sample_rate
            voice *= np.exp(-np.clip(t - end, 0.0, None) / tau).astype(np.float32)
        out[first:last] += voice * velocity_gain(note.velocity, self._top_layer)
        if not undamped and not restruck and note.pitch in self.index.releases:
            self._add_release(out, note, end, float(np.abs(sample).max()), sample_rate)

    def _add_release(self, out: np.ndarray, note: Note, end: float, note_peak: float, sample_rate: int) -> None:
        noise = self._load(self.index.releases[note.pitch], sample_rate)
        first = int(round(end * sample_rate))
        if first < 0 or first >= out.size:
            return
        piece = noise[: out.size - first]
        out[first:first + piece.size] += piece * (RELEASE_NOISE_GAIN * note_peak / (np.abs(noise).max() or 1.0))
