"""Render a Performance (notes + sustain pedal) to audio with FluidSynth or a sampled piano in process, or with
a GUS patch piano through TiMidity++."""

from __future__ import annotations

import numpy as np
from scipy.signal import resample_poly

from notestream.midi import pitch_bend_value
from notestream.notes import Performance
from .patch_piano import PatchPiano
from .sampled_piano import SampledPiano
from .soundfonts import PianoPreset

SYNTH_RATE = 32000  # rendered at twice the model rate, then low-passed and decimated (no aliasing)
NOTE_OFF, PEDAL, NOTE_ON = 0, 1, 2
FLUSH_SECONDS = 0.1  # silence rendered and dropped after each render: a render starts from a quiet synth


def _events(performance: Performance) -> list[tuple[float, int, int, int]]:
    """(time, kind, key, value), note-offs first at equal times so re-struck keys sound."""
    ev = [(n.onset, NOTE_ON, n.pitch, n.velocity) for n in performance.notes]
    ev += [(n.offset, NOTE_OFF, n.pitch, 0) for n in performance.notes]
    ev += [(p.onset, PEDAL, 64, 127) for p in performance.pedals] + [(p.offset, PEDAL, 64, 0) for p in performance.pedals]
    return sorted(ev)


class PianoRenderer:
    """Keeps one FluidSynth per SoundFont (loading a compressed .sf3 takes seconds), one SampledPiano per
    sampled-piano folder and one PatchPiano per GUS patch, and renders performances."""

    def __init__(self, gain: float = 0.5):
        self.gain = gain
        self._synths: dict[str, tuple[object, int]] = {}
        self._sampled: dict[str, SampledPiano | PatchPiano] = {}

    def _synth(self, preset: PianoPreset):
        import fluidsynth  # imported here: rendering is the only user and needs libfluidsynth

        if preset.soundfont not in self._synths:
            synth = fluidsynth.Synth(samplerate=float(SYNTH_RATE), gain=self.gain)
            synth.setting("synth.reverb.active", 0)
            synth.setting("synth.chorus.active", 0)
            synth.setting("synth.polyphony", 256)
            sfid = synth.sfload(str(preset.path))
            if sfid < 0:
                synth.delete()
                raise FileNotFoundError(f"{preset.path}: cannot load SoundFont (install its Debian package)")
            self._synths[preset.soundfont] = (synth, sfid)
        synth, sfid = self._synths[preset.soundfont]
        synth.system_reset()
        synth.program_select(0, sfid, preset.bank, preset.program)
        return synth

    def render(self, performance: Performance, preset: PianoPreset, sample_rate: int, duration: float, detune_cents: float = 0.0) -> np.ndarray:
        """Mono float32 audio of `duration` seconds; detune via pitch bend, so labels stay unchanged."""
        if preset.is_sampled or preset.is_patch:
            if preset.soundfont not in self._sampled:
                kind = SampledPiano if preset.is_sampled else PatchPiano
                self._sampled[preset.soundfont] = kind(preset.path)
            return self._sampled[preset.soundfont].render(performance, sample_rate, duration, detune_cents)
        synth = self._synth(preset)
        synth.pitch_bend(0, pitch_bend_value(detune_cents))
        total = int(round(duration * SYNTH_RATE))
        blocks, cursor = [], 0
        for time, kind, key, value in _events(performance):
            at = min(total, int(round(time * SYNTH_RATE)))
            if at > cursor:
                blocks.append(synth.get_samples(at - cursor))
                cursor = at
            if kind == PEDAL:
                synth.cc(0, 64, value)
            elif kind == NOTE_ON:
                synth.noteon(0, key, value)
            else:
                synth.noteoff(0, key)
        if total > cursor:
            blocks.append(synth.get_samples(total - cursor))
        synth.all_sounds_off(0)
        synth.get_samples(int(FLUSH_SECONDS * SYNTH_RATE))  # let the cut voices die here, not in the next render
        stereo = np.concatenate(blocks).astype(np.float32).reshape(-1, 2) / 32768.0 if blocks else np.zeros((0, 2), np.float32)
        return resample_poly(stereo.mean(axis=1), sample_rate, SYNTH_RATE).astype(np.float32)

    def close(self) -> None:
        for synth, _ in self._synths.values():
            synth.delete()
        self._synths.clear()
