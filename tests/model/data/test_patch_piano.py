from pathlib import Path

import numpy as np
import pytest

from notestream.model.data.corpus import RenderPlan, plan_jobs
from notestream.model.data.patch_piano import PEAK, PatchPiano, performance_for_midi, timidity_config
from notestream.model.data.render import PianoRenderer
from notestream.model.data.soundfonts import sampled_piano_preset
from notestream.model.data.splits import AsapPerformance
from notestream.notes import Note, PedalSpan, Performance

RATE = 16000
FREEPATS_GRAND = Path("/usr/share/midi/freepats/Tone_000/000_Acoustic_Grand_Piano.pat")


def _pitch_hz(audio: np.ndarray) -> float:
    """The strongest spectral peak between 100 Hz and 2 kHz, interpolated."""
    spectrum = np.abs(np.fft.rfft(audio * np.hanning(audio.size), n=8 * audio.size))
    hz = np.fft.rfftfreq(8 * audio.size, 1 / RATE)
    band = (hz > 100) & (hz < 2000)
    return float(hz[band][np.argmax(spectrum[band])])


def test_a_patch_renders_the_notes_at_their_times_and_pitch_peak_normalised():
    audio = PatchPiano(FREEPATS_GRAND).render(Performance([Note(0.5, 1.5, 69, 90)]), RATE, 2.0)
    assert audio.shape == (2 * RATE,) and audio.dtype == np.float32
    assert np.abs(audio).max() == pytest.approx(PEAK, rel=1e-4)
    assert np.abs(audio[: int(0.497 * RATE)]).max() < 1e-3 < np.abs(audio[int(0.5 * RATE):int(0.6 * RATE)]).max()
    assert _pitch_hz(audio[int(0.55 * RATE):int(1.45 * RATE)]) == pytest.approx(440.0, rel=0.01)


def test_detune_bends_the_pitch_and_the_sustain_pedal_holds_a_released_note():
    piano = PatchPiano(FREEPATS_GRAND)
    bent = piano.render(Performance([Note(0.0, 1.0, 69, 90)]), RATE, 1.0, detune_cents=100.0)
    assert _pitch_hz(bent[int(0.05 * RATE):int(0.95 * RATE)]) == pytest.approx(440.0 * 2 ** (1 / 12), rel=0.01)
    short = [Note(0.0, 0.2, 60, 90)]
    dry = piano.render(Performance(short), RATE, 1.5)
    held = piano.render(Performance(short, [PedalSpan(0.0, 1.5)]), RATE, 1.5)
    late = slice(int(0.8 * RATE), int(1.2 * RATE))
    assert np.sqrt(np.mean(held[late] ** 2)) > 5 * np.sqrt(np.mean(dry[late] ** 2))


def test_notes_begun_before_the_segment_start_at_zero_in_the_midi():
    perf = performance_for_midi(Performance([Note(-1.0, 0.5, 60, 80), Note(-2.0, -1.5, 62, 80)], [PedalSpan(-1.0, 0.3)]))
    assert [(n.onset, n.pitch) for n in perf.notes][0] == (0.0, 60)
    assert all(n.offset > n.onset >= 0 for n in perf.notes)
    assert [(p.onset, p.offset) for p in perf.pedals] == [(0.0, 0.3)]
    assert PatchPiano(FREEPATS_GRAND).render(Performance([Note(-1.0, 0.5, 60, 80)]), RATE, 1.0).any()


def test_a_patch_preset_is_named_after_the_patch_and_dispatched_to_timidity(tmp_path):
    preset = sampled_piano_preset(FREEPATS_GRAND)
    assert preset.name == "acoustic-grand-piano" and preset.is_patch and not preset.is_sampled
    assert sampled_piano_preset(FREEPATS_GRAND, "freepats-grand").name == "freepats-grand"
    assert "0 000_Acoustic_Grand_Piano.pat" in timidity_config(FREEPATS_GRAND)
    audio = PianoRenderer().render(Performance([Note(0.1, 0.4, 60, 90)]), preset, RATE, 1.0)
    assert audio.shape == (RATE,) and np.abs(audio[int(0.1 * RATE):int(0.3 * RATE)]).max() > 0.1
    with pytest.raises(FileNotFoundError, match="GUS patch"):
        sampled_piano_preset(tmp_path / "missing.pat")


def test_a_patch_piano_renders_the_same_segments_into_its_own_splits(tmp_path):
    perfs = [AsapPerformance(f"W{i}", tmp_path / f"p{i}.mid", tmp_path / "a.txt") for i in range(3)]
    splits = {"train": ["W0"], "validation": ["W1"], "benchmark": ["W2"]}
    usual = plan_jobs(perfs, splits, RenderPlan())
    patched = plan_jobs(perfs, splits, RenderPlan(), sampled_piano_preset(FREEPATS_GRAND, "freepats-grand"))
    assert [j.split for j in patched] == [f"{j.split}-freepats-grand" for j in usual]
    assert [(j.segment_id, j.start) for j in patched] == [(j.segment_id, j.start) for j in usual]
