"""Shared fixtures: small audio that tests build themselves (sine tones, a rendered piano phrase)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from notestream.audio import write_wav
from notestream.notes import Note, PedalSpan, Performance

PIANO_RATE = 16000

# A short phrase with every kind of thing a transcriber meets: a scale, a chord, a repeated key and the pedal.
PIANO_PHRASE = Performance(
    notes=[
        Note(0.10, 0.40, 60, 80),
        Note(0.40, 0.70, 64, 90),
        Note(0.70, 1.00, 67, 100),
        Note(1.10, 1.60, 48, 70),
        Note(1.10, 1.60, 55, 70),
        Note(1.10, 1.60, 72, 110),
        Note(1.70, 1.85, 76, 60),
        Note(1.90, 2.10, 76, 95),
    ],
    pedals=[PedalSpan(1.05, 1.80)],
)


def sine(freq: float, seconds: float, sample_rate: int, amplitude: float = 0.5) -> np.ndarray:
    """A float32 sine tone starting at phase 0."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def shipped_low_ms() -> float:
    """The shipped checkpoint's low latency (ms) as the latency benches report it."""
    from notestream.model.checkpoint import load_checkpoint
    from notestream.model.transcriber import Transcriber

    return round(Transcriber(load_checkpoint(None, "cpu")).latency_seconds("low") * 1000, 1)


def render_piano(performance: Performance, sample_rate: int = PIANO_RATE, tail: float = 0.3,
                 seconds: float | None = None) -> np.ndarray:
    """Render notes and sustain pedal with FluidR3's grand piano (the training renderer); mono float32,
    `tail` seconds after the last note, or exactly `seconds` long when given."""
    from notestream.model.data.render import PianoRenderer
    from notestream.model.data.soundfonts import TRAIN_PRESETS

    length = seconds if seconds is not None else performance.duration + tail
    renderer = PianoRenderer(gain=0.8)
    try:
        audio = renderer.render(performance, TRAIN_PRESETS[0], sample_rate, length)
    finally:
        renderer.close()
    size = int(round(length * sample_rate))
    return np.pad(audio[:size], (0, max(0, size - audio.size))).astype(np.float32)


def random_phrase(seed: int, seconds: float) -> Performance:
    """Random chords and runs: 1-3 keys (MIDI 48-83, velocity 50-109) every 0.15-0.4 s, ending 0.5 s early."""
    rng = np.random.default_rng(seed)
    notes, t = [], 0.1
    while t < seconds - 0.5:
        for pitch in rng.choice(np.arange(48, 84), size=rng.integers(1, 4), replace=False):
            notes.append(Note(t, t + float(rng.uniform(0.2, 0.8)), int(pitch), int(rng.integers(50, 110))))
        t += float(rng.uniform(0.15, 0.4))
    return Performance(sorted(notes))


@pytest.fixture(scope="session")
def piano_phrase() -> Performance:
    """The notes and pedal of `piano_wav`."""
    return PIANO_PHRASE


@pytest.fixture(scope="session")
def piano_audio() -> np.ndarray:
    """`PIANO_PHRASE` rendered at 16 kHz (about 2.4 s, mono float32)."""
    return render_piano(PIANO_PHRASE)


@pytest.fixture(scope="session")
def piano_wav(tmp_path_factory: pytest.TempPathFactory, piano_audio: np.ndarray) -> Path:
    """`piano_audio` as a 16 kHz 16-bit WAV file."""
    path = tmp_path_factory.mktemp("piano") / "phrase.wav"
    write_wav(path, piano_audio, PIANO_RATE)
    return path


@pytest.fixture
def make_sine_wav(tmp_path: Path) -> Callable[..., Path]:
    """Factory: write a sine WAV (one frequency per channel) and return its path."""

    def make(
        freqs: float | tuple[float, ...] = 440.0,
        seconds: float = 1.0,
        sample_rate: int = 16000,
        amplitude: float = 0.5,
        name: str = "sine.wav",
    ) -> Path:
        channels = freqs if isinstance(freqs, tuple) else (freqs,)
        audio = np.stack([sine(f, seconds, sample_rate, amplitude) for f in channels], axis=1)
        path = tmp_path / name
        wavfile.write(str(path), sample_rate, (np.clip(audio, -1, 1) * 32767).astype(np.int16))
        return path

    return make
