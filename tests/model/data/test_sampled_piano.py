"""The sampled-piano renderer, on a tiny folder of sine-tone "recordings" written here."""

from pathlib import Path

import numpy as np
import pytest

from notestream.audio import write_wav
from notestream.model.data.corpus import RenderPlan, plan_jobs
from notestream.model.data.render import PianoRenderer
from notestream.model.data.sampled_piano import (
    SampledPiano,
    index_samples,
    key_of,
    layer_of,
    sounding_end,
    velocity_gain,
)
from notestream.model.data.soundfonts import sampled_piano_preset
from notestream.model.data.splits import AsapPerformance
from notestream.notes import Note, PedalSpan, Performance

RATE = 16000


def _tone(pitch: int, amplitude: float, seconds: float = 3.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * 440.0 * 2 ** ((pitch - 69) / 12) * t) * np.exp(-t / 2)).astype(np.float32)


@pytest.fixture()
def piano_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tiny-grand"
    folder.mkdir()
    for name, pitch in (("A3", 57), ("C4", 60), ("D#4", 63), ("F#6", 90)):
        write_wav(folder / f"{name}v1.wav", _tone(pitch, 0.1), RATE)
        write_wav(folder / f"{name}v2.wav", _tone(pitch, 0.5), RATE)
    noise = np.random.default_rng(0).normal(0, 0.3, RATE // 4).astype(np.float32)
    for key in (37, 40, 43):  # A3, C4, D#4
        write_wav(folder / f"rel{key}.wav", noise, RATE)
    (folder / "README.md").write_text("not a sample")
    return folder


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def _peak_hz(x: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / RATE)[np.argmax(spectrum)])


def test_file_names_give_keys_and_layers(piano_dir):
    index = index_samples(piano_dir)
    assert index.keys == [57, 60, 63, 90] and index.layers == 2
    assert sorted(index.releases) == [57, 60, 63]
    assert key_of("A", None, 0) == 21 and key_of("C", None, 8) == 108 and key_of("D", "#", 1) == 27
    assert [layer_of(v, 16) for v in (1, 8, 9, 64, 127)] == [1, 1, 2, 8, 16]


def test_a_folder_without_samples_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="no note samples"):
        index_samples(tmp_path)
    with pytest.raises(FileNotFoundError, match="no such sampled-piano folder"):
        sampled_piano_preset(tmp_path / "missing")


def test_keys_between_samples_are_repitched_from_the_nearest(piano_dir):
    audio = SampledPiano(piano_dir).render(Performance([Note(0.0, 1.0, 62, 100)]), RATE, 1.0)
    assert _peak_hz(audio[:RATE]) == pytest.approx(440.0 * 2 ** ((62 - 69) / 12), abs=2.0)
    detuned = SampledPiano(piano_dir).render(Performance([Note(0.0, 1.0, 62, 100)]), RATE, 1.0, detune_cents=100)
    assert _peak_hz(detuned[:RATE]) == pytest.approx(440.0 * 2 ** ((63 - 69) / 12), abs=2.0)


def test_velocity_picks_the_layer(piano_dir):
    piano = SampledPiano(piano_dir)
    soft = piano.render(Performance([Note(0.0, 0.5, 60, 30)]), RATE, 0.5)
    loud = piano.render(Performance([Note(0.0, 0.5, 60, 120)]), RATE, 0.5)
    assert _rms(loud) > 4 * _rms(soft)


def test_a_single_layer_gets_its_dynamics_from_gain(piano_dir):
    """One recorded loudness: velocity alone sets the level, over the GM curve's 40 dB range."""
    for path in piano_dir.glob("*v2.wav"):
        path.unlink()
    piano = SampledPiano(piano_dir)
    soft = piano.render(Performance([Note(0.0, 0.5, 60, 32)]), RATE, 0.5)
    loud = piano.render(Performance([Note(0.0, 0.5, 60, 127)]), RATE, 0.5)
    assert 20 * np.log10(_rms(loud) / _rms(soft)) == pytest.approx(24.0, abs=0.1)
    assert velocity_gain(127, 1) == 1.0 and velocity_gain(128, 16) == 1.0
    assert velocity_gain(121, 16) == pytest.approx((121 / 128) ** 0.5)


def test_dampers_stop_a_released_key_and_the_pedal_holds_it(piano_dir):
    piano = SampledPiano(piano_dir)
    note = Note(0.0, 0.3, 60, 100)
    dry = piano.render(Performance([note]), RATE, 2.0)
    held = piano.render(Performance([note], [PedalSpan(0.1, 1.5)]), RATE, 2.0)
    late = slice(int(1.0 * RATE), int(1.4 * RATE))
    assert _rms(dry[late]) < 1e-3 * _rms(dry[: int(0.3 * RATE)])
    assert _rms(held[late]) > 0.3 * _rms(held[: int(0.3 * RATE)])
    assert sounding_end(note, [PedalSpan(0.1, 1.5)]) == 1.5 and sounding_end(note, [PedalSpan(0.5, 1.5)]) == 0.3


def test_top_keys_have_no_dampers(piano_dir):
    audio = SampledPiano(piano_dir).render(Performance([Note(0.0, 0.2, 90, 100)]), RATE, 1.5)
    assert _rms(audio[RATE:]) > 0.3 * _rms(audio[: int(0.2 * RATE)])


def test_a_restruck_key_cuts_the_earlier_sound(piano_dir):
    piano = SampledPiano(piano_dir)
    once = piano.render(Performance([Note(0.0, 2.0, 60, 100)]), RATE, 2.0)
    twice = piano.render(Performance([Note(0.0, 2.0, 60, 100), Note(0.5, 2.0, 60, 100)]), RATE, 2.0)
    # the second strike restarts the tone; the first voice does not keep adding to it
    assert _rms(twice[int(0.6 * RATE):]) < 1.3 * _rms(once[: int(1.5 * RATE)])


def test_notes_begun_before_the_cut_start_part_way_in(piano_dir):
    audio = SampledPiano(piano_dir).render(Performance([Note(-1.0, 1.0, 60, 100)]), RATE, 1.0)
    fresh = SampledPiano(piano_dir).render(Performance([Note(0.0, 1.0, 60, 100)]), RATE, 1.0)
    assert 0 < _rms(audio) < 0.8 * _rms(fresh)  # a second into its decay


def test_the_renderer_dispatches_a_folder_preset_to_the_sampled_piano(piano_dir):
    preset = sampled_piano_preset(piano_dir)
    assert preset.name == "tiny-grand" and preset.is_sampled
    audio = PianoRenderer().render(Performance([Note(0.1, 0.4, 60, 90)]), preset, RATE, 1.0)
    assert audio.shape == (RATE,) and audio.dtype == np.float32
    assert np.abs(audio[: int(0.09 * RATE)]).max() == 0 < np.abs(audio[int(0.1 * RATE):int(0.3 * RATE)]).max()


def test_a_sampled_piano_renders_the_same_segments_into_its_own_splits(tmp_path, piano_dir):
    perfs = [AsapPerformance(f"W{i}", tmp_path / f"p{i}_{k}.mid", tmp_path / "a.txt") for i in range(3) for k in range(2)]
    splits = {"train": ["W0"], "validation": ["W1"], "benchmark": ["W2"]}
    plan = RenderPlan()
    usual = plan_jobs(perfs, splits, plan)
    sampled = plan_jobs(perfs, splits, plan, sampled_piano_preset(piano_dir))
    assert [j.split for j in sampled] == [f"{j.split}-tiny-grand" for j in usual]
    assert [(j.segment_id, j.start, j.detune_cents) for j in sampled] == [(j.segment_id, j.start, j.detune_cents) for j in usual]
    assert all(j.preset.is_sampled for j in sampled)
