"""The transcription played back: FluidSynth renders the notes and pedal to a WAV, a segment at a time.

Rendering a whole 30-minute performance at once would hold it several times over in memory, so the
WAV is written in segments. Each segment is rendered from a little earlier (the onset of the oldest
note still ringing at its start, at most `MAX_PREROLL` seconds back), so notes carry across segment
boundaries as they would in one pass.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from notestream.model.data.soundfonts import TRAIN_PRESETS, PianoPreset

from ..notes import Note, PedalSpan, Performance, extend_with_pedal

RESYNTHESIS_RATE = 32000  # the renderer's own rate: no resampling
SEGMENT_SECONDS = 60.0
MAX_PREROLL = 20.0  # a piano note has died away by then
RELEASE_SECONDS = 2.0  # how long a released key may still ring
DEFAULT_PRESET = TRAIN_PRESETS[0]  # FluidR3's grand: an .sf2 that loads in a blink


def _preroll_start(onsets: np.ndarray, sounding_until: np.ndarray, start: float) -> float:
    """The onset of the earliest note still ringing at `start`, no more than MAX_PREROLL back."""
    ringing = (onsets < start) & (sounding_until + RELEASE_SECONDS > start)
    earliest = float(onsets[ringing].min()) if ringing.any() else start
    return max(earliest, start - MAX_PREROLL, 0.0)


def _window(notes: list[Note], pedals: list[PedalSpan], begin: float, stop: float) -> Performance:
    """Notes struck in [begin, stop) and pedal held within it, with times measured from `begin`."""
    kept = [Note(n.onset - begin, n.offset - begin, n.pitch, n.velocity) for n in notes if begin <= n.onset < stop]
    held = [PedalSpan(max(p.onset, begin) - begin, p.offset - begin) for p in pedals if p.offset > begin and p.onset < stop]
    return Performance(kept, held)


def rendered_segments(
    performance: Performance, duration: float, preset: PianoPreset = DEFAULT_PRESET,
    sample_rate: int = RESYNTHESIS_RATE, segment_seconds: float = SEGMENT_SECONDS,
) -> Iterator[np.ndarray]:
    """Mono float32 audio of the performance, `segment_seconds` at a time, `duration` seconds in all."""
    from notestream.model.data.render import PianoRenderer

    notes = sorted(performance.notes)
    extended = extend_with_pedal(notes, performance.pedals)
    onsets = np.array([n.onset for n in extended], dtype=np.float64)
    sounding_until = np.array([n.offset for n in extended], dtype=np.float64)
    total = int(round(duration * sample_rate))
    renderer = PianoRenderer()
    try:
        for first in range(0, total, int(segment_seconds * sample_rate)):
            last = min(total, first + int(segment_seconds * sample_rate))
            start, stop = first / sample_rate, last / sample_rate
            begin = _preroll_start(onsets, sounding_until, start)
            audio = renderer.render(_window(notes, performance.pedals, begin, stop), preset, sample_rate, stop - begin)
            skip = int(round((start - begin) * sample_rate))
            segment = audio[skip: skip + last - first]
            yield np.pad(segment, (0, last - first - segment.size))
    finally:
        renderer.close()


def write_resynthesis(
    performance: Performance, path: str | Path, duration: float, preset: PianoPreset = DEFAULT_PRESET,
    sample_rate: int = RESYNTHESIS_RATE,
) -> None:
    """Write the rendered performance as a 16-bit mono WAV of `duration` seconds."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        for segment in rendered_segments(performance, duration, preset, sample_rate):
            out.writeframes((np.clip(segment, -1.0, 1.0) * 32767).astype("<i2").tobytes())
