"""Velocity-dependent level and brightness on renders: measured on real FluidR3 renders of single notes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from notestream.model.data.corpus import SegmentJob, render_job, with_velocity_timbre
from notestream.model.data.render import PianoRenderer
from notestream.model.data.soundfonts import TRAIN_PRESETS
from notestream.model.data.velocity_timbre import (
    LOUD,
    SOFT,
    VelocityTimbre,
    level_db,
    measured_span_db,
    probe_note,
    render_with_velocity_timbre,
    softness,
    spectral_centroid,
    velocity_groups,
)
from notestream.notes import Note, PedalSpan, Performance

RATE = 16000


@pytest.fixture(scope="module")
def render():
    renderer = PianoRenderer()
    yield lambda perf: renderer.render(perf, TRAIN_PRESETS[0], RATE, 1.6)
    renderer.close()


def test_softness_runs_from_one_at_velocity_16_to_zero_at_127_in_log_velocity() -> None:
    assert softness(LOUD) == 0.0 and softness(SOFT) == 1.0 and softness(8) == 1.0
    assert softness(45) == pytest.approx(np.log(127 / 45) / np.log(127 / 16))


def test_notes_are_grouped_at_the_velocity_edges() -> None:
    notes = [Note(0, 1, 60, v) for v in (10, 24, 30, 64, 100, 23)]
    groups = velocity_groups(notes, (24, 32, 64))
    assert [[n.velocity for n in g] for g in groups] == [[10, 23], [24, 30], [64, 100]]


def test_the_span_reaches_the_target_and_soft_notes_get_darker_while_ff_is_untouched(render) -> None:
    own = measured_span_db(render, RATE)
    assert 30 < own < 42  # FluidR3: the General MIDI curve, ~36 dB from velocity 16 to 127

    def augmented(perf: Performance, darkening: float = 6.0) -> np.ndarray:
        return render_with_velocity_timbre(perf, render, own, 46.0, darkening, RATE)

    assert measured_span_db(lambda perf: augmented(perf, 0.0), RATE) == pytest.approx(46.0, abs=0.5)
    assert 46.0 < measured_span_db(augmented, RATE) < 48.0  # darker is a little quieter too
    soft_plain, soft_dark = probe_note(render, SOFT, RATE), probe_note(augmented, SOFT, RATE)
    assert spectral_centroid(soft_dark, RATE) < 0.9 * spectral_centroid(soft_plain, RATE)
    loud_plain, loud_same = probe_note(render, LOUD, RATE), probe_note(augmented, LOUD, RATE)
    assert level_db(loud_same) == pytest.approx(level_db(loud_plain), abs=1e-3)


def test_groups_rendered_apart_add_up_to_the_whole_render(render) -> None:
    perf = Performance([Note(0.1, 0.8, 48, 20), Note(0.1, 0.8, 55, 50), Note(0.4, 1.2, 64, 90), Note(0.5, 1.0, 67, 120)],
                       [PedalSpan(0.3, 1.4)])
    whole = render(perf)
    split = render_with_velocity_timbre(perf, render, 36.0, 36.0, 0.0, RATE)  # target = own span, no darkening
    error_db = level_db(split - whole) - level_db(whole)
    assert error_db < -30, error_db  # FluidSynth's voices are not bit-exact between renders; the sum is the whole


def test_only_train_renders_get_the_timbre_and_a_rerender_is_identical(tmp_path, render) -> None:
    from mido import Message, MidiFile, MidiTrack

    mid, track = MidiFile(), MidiTrack()
    mid.tracks.append(track)
    for i, velocity in enumerate((20, 110, 40, 90)):
        track += [Message("note_on", note=60 + i, velocity=velocity, time=0 if i == 0 else 240),
                  Message("note_off", note=60 + i, time=240)]
    mid.save(tmp_path / "p.mid")
    jobs = [SegmentJob(split, "w__p__0", str(tmp_path / "p.mid"), 0.0, 2.0, TRAIN_PRESETS[0], 0.0, RATE)
            for split in ("train", "validation")]
    timbre = VelocityTimbre()
    train, validation = with_velocity_timbre(jobs, timbre)
    assert train.velocity_timbre == timbre and validation.velocity_timbre is None
    first = render_job(train, tmp_path / "a")
    render_job(train, tmp_path / "b")
    a, b = (np.load(tmp_path / d / "train" / "w__p__0.npz") for d in ("a", "b"))
    difference = a["audio"].astype(float) - b["audio"]  # the same draws; FluidSynth itself is not bit-exact
    assert level_db(difference) - level_db(a["audio"].astype(float)) < -30
    assert 34.0 <= first["span_db"] <= 46.0 and 0.0 <= first["darkening_db_per_octave"] <= 6.0
    assert json.loads(str(a["meta"]))["own_span_db"] == pytest.approx(first["own_span_db"])
