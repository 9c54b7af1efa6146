"""Rendering, cropping, splits and the on-disk segment layout."""

import json

import numpy as np

from notestream.model.data.corpus import crop_performance, iter_segments, plan_jobs, render_job
from notestream.model.data.render import PianoRenderer
from notestream.model.data.soundfonts import BENCHMARK_PRESETS, TRAIN_PRESETS
from notestream.model.data.splits import AsapPerformance, make_splits, read_splits
from notestream.notes import Note, PedalSpan, Performance


def test_crop_keeps_overlapping_notes_shifted_with_held_notes_before_zero():
    perf = Performance([Note(1.0, 3.0, 60, 80), Note(2.5, 2.8, 62, 70), Note(6.0, 7.0, 64, 60)], [PedalSpan(1.5, 4.0)])
    crop = crop_performance(perf, 2.0, 3.0)
    got = [(round(n.onset, 9), round(n.offset, 9), n.pitch, n.velocity) for n in crop.notes]
    assert got == [(-1.0, 1.0, 60, 80), (0.5, 0.8, 62, 70)]
    assert crop.pedals == [PedalSpan(0.0, 2.0)]


def test_renderer_sounds_the_notes_and_the_pedal_sustains_them():
    renderer = PianoRenderer()
    try:
        notes = [Note(0.1, 0.3, 69, 100)]
        dry = renderer.render(Performance(notes), TRAIN_PRESETS[0], 16000, 1.5)
        held = renderer.render(Performance(notes, [PedalSpan(0.0, 1.5)]), TRAIN_PRESETS[0], 16000, 1.5)
    finally:
        renderer.close()
    assert dry.shape == (24000,) and dry.dtype == np.float32
    assert np.abs(dry[:1000]).max() < 1e-3 < np.abs(dry[2000:4000]).max()
    late = slice(16000, 24000)
    assert np.sqrt(np.mean(held[late] ** 2)) > 3 * np.sqrt(np.mean(dry[late] ** 2))


def test_splits_are_by_work_and_disjoint():
    splits = make_splits([f"Composer/Work{i}" for i in range(50)] * 3, seed=1)
    sets = [set(v) for v in splits.values()]
    assert sum(len(s) for s in sets) == 50
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])
    committed = read_splits()
    assert not set(committed["train"]) & (set(committed["validation"]) | set(committed["benchmark"]))


def test_benchmark_segments_use_only_the_held_out_piano(tmp_path):
    perfs = [AsapPerformance(f"W{i}", tmp_path / f"p{i}_{k}.mid", tmp_path / "a.txt") for i in range(6) for k in range(3)]
    splits = {"train": ["W0", "W1", "W2", "W3"], "validation": ["W4"], "benchmark": ["W5"]}
    from notestream.model.data.corpus import RenderPlan

    jobs = plan_jobs(perfs, splits, RenderPlan(train_segments_per_performance=2, benchmark_performances_per_work=2))
    bench = [j for j in jobs if j.split == "benchmark"]
    assert len(bench) == 2 and all(j.preset in BENCHMARK_PRESETS for j in bench)
    assert all(j.preset in TRAIN_PRESETS for j in jobs if j.split != "benchmark")
    assert sum(j.split == "train" for j in jobs) == 24
    assert all(j.detune_cents == 0 for j in jobs if j.split != "train")


def test_render_job_writes_a_segment_that_loads_back(tmp_path):
    from mido import Message, MidiFile, MidiTrack

    mid = MidiFile()
    track = MidiTrack()
    mid.tracks.append(track)
    for i in range(8):
        track += [Message("note_on", note=60 + i, velocity=90, time=0 if i == 0 else 240), Message("note_off", note=60 + i, time=240)]
    mid.save(tmp_path / "p.mid")
    from notestream.model.data.corpus import SegmentJob

    job = SegmentJob("train", "w__p__0", str(tmp_path / "p.mid"), 0.0, 2.0, TRAIN_PRESETS[0], 5.0, 16000)
    render_job(job, tmp_path / "out")
    (segment,) = iter_segments(tmp_path / "out", "train", 16000)
    assert segment.audio.dtype == np.int16 and segment.audio.size == 32000
    assert [n.pitch for n in segment.notes] == [60, 61, 62, 63]
    from notestream.model.data.corpus import RenderPlan, write_manifest

    assert write_manifest(tmp_path / "out" / "train", RenderPlan()) == 1
    (listed,) = json.loads((tmp_path / "out" / "train" / "manifest.json").read_text())["segments"]
    assert listed["segment_id"] == "w__p__0" and listed["preset"] == TRAIN_PRESETS[0].name and listed["detune_cents"] == 5.0
