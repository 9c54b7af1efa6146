"""Render a Performance with a GUS patch piano (e.g. Debian's freepats) through TiMidity++.

The freepats pianos were sampled from other instruments than any SoundFont we train on, so rendering the
validation works with one gives a piano the model has never heard, to choose between runs without
looking at the benchmark. TiMidity++ renders a 30 s segment in a fraction of a second.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pretty_midi
from scipy.signal import resample_poly

from notestream.audio import decode_audio
from notestream.midi import performance_to_pretty_midi, pitch_bend_value
from notestream.notes import Note, Performance

TIMIDITY = "timidity"
PEAK = 0.5  # renders are peak-normalised: a patch's own level says nothing about a recording's


def timidity_config(patch: Path) -> str:
    """A TiMidity++ configuration whose program 0 is `patch`."""
    return f"dir {patch.parent}\nbank 0\n0 {patch.name}\n"


def performance_for_midi(performance: Performance) -> Performance:
    """Notes that began before the segment (negative onsets) start at 0, as FluidSynth plays them."""
    notes = [Note(max(0.0, n.onset), max(n.offset, max(0.0, n.onset) + 1e-3), n.pitch, n.velocity) for n in performance.notes]
    pedals = [type(p)(max(0.0, p.onset), p.offset) for p in performance.pedals if p.offset > 0]
    return Performance(notes, pedals)


class PatchPiano:
    """One GUS patch (`.pat`) piano, rendered by the `timidity` program (Debian packages timidity, freepats)."""

    def __init__(self, patch: str | Path, synth_rate: int = 32000):
        self.patch = Path(patch).resolve()
        if not self.patch.is_file():
            raise FileNotFoundError(f"{self.patch}: no such GUS patch (Debian package freepats installs some)")
        if shutil.which(TIMIDITY) is None:
            raise FileNotFoundError("timidity is not installed (run `make system-deps`)")
        self.synth_rate = synth_rate

    def render(self, performance: Performance, sample_rate: int, duration: float, detune_cents: float = 0.0) -> np.ndarray:
        """Mono float32 audio of `duration` seconds; detune via pitch bend, so labels stay unchanged."""
        pm = performance_to_pretty_midi(performance_for_midi(performance))
        pm.instruments[0].pitch_bends.append(pretty_midi.PitchBend(pitch_bend_value(detune_cents), 0.0))
        with tempfile.TemporaryDirectory(prefix="notestream-timidity-") as tmp:
            cfg, midi, wav = Path(tmp, "piano.cfg"), Path(tmp, "in.mid"), Path(tmp, "out.wav")
            cfg.write_text(timidity_config(self.patch))
            pm.write(str(midi))
            cmd = [TIMIDITY, "-c", str(cfg), "-OwM", "-s", str(self.synth_rate), "-EFreverb=d", "-EFchorus=d",
                   "-p", "256", "--preserve-silence", "-o", str(wav), str(midi)]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
            if done.returncode != 0 or not wav.is_file():
                raise RuntimeError(f"timidity failed on {self.patch.name}: {done.stderr.strip() or done.stdout.strip()}")
            audio = decode_audio(wav, self.synth_rate)
        audio = resample_poly(audio, sample_rate, self.synth_rate).astype(np.float32)
        total = int(round(duration * sample_rate))
        audio = np.pad(audio[:total], (0, max(0, total - audio.size)))
        peak = float(np.abs(audio).max())
        return audio * (PEAK / peak) if peak > 0 else audio
