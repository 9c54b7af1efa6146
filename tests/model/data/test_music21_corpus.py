"""music21 material: evaluation works stay out, and a tiny score becomes a train segment the trainer reads."""

import json

import numpy as np

from notestream.model.data.corpus import RenderPlan, plan_music21_jobs, render_job
from notestream.model.data.dataset import CropSampler
from notestream.model.data.music21_corpus import (
    ENSEMBLE,
    KEYBOARD,
    KEYBOARD_WORKS,
    SATB,
    Music21Work,
    bach_chorales,
    catalogue_numbers,
    corpus_root,
    evaluation_twin,
    part_hands,
    read_score,
    rhythm_works,
    training_works,
    write_performances,
)
from notestream.model.data.soundfonts import TRAIN_PRESETS
from notestream.model.data.splits import read_splits
from notestream.model.features import FeatureConfig

MELODY = (72, 74, 76, 77, 79, 77, 76, 74)
CHORDS = ((48, 55, 64), (53, 57, 65))


def write_tiny_score(root):
    """Two bars of 4/4 for piano: a melody in eighths over two held chords, as MusicXML."""
    from music21 import chord, instrument, meter, note, stream, tempo

    right, left = stream.Part(), stream.Part()
    for part in (right, left):
        part.insert(0, instrument.Piano())
    for bar in range(2):
        upper, lower = stream.Measure(number=bar + 1), stream.Measure(number=bar + 1)
        if bar == 0:
            upper.insert(0, meter.TimeSignature("4/4"))
            upper.insert(0, tempo.MetronomeMark(number=100))
        for pitch in MELODY[bar * 4:(bar + 1) * 4]:
            upper.append(note.Note(pitch, quarterLength=1.0))
        lower.append(chord.Chord(list(CHORDS[bar]), quarterLength=4.0))
        right.append(upper)
        left.append(lower)
    score = stream.Score([right, left])
    (root / "tiny").mkdir(parents=True)
    score.write("musicxml", fp=str(root / "tiny" / "piece.musicxml"))
    return Music21Work("tiny/piece.musicxml", "Anon Composer", "Tiny Piece", quarter_bpm=60)


def test_a_tiny_score_renders_into_a_train_segment_the_trainer_reads(tmp_path):
    work = write_tiny_score(tmp_path / "corpus")
    score = read_score(work, tmp_path / "corpus")
    assert score.quarter_bpm == 100 and score.bars == (0.0, 4.0)
    written = sorted(n.pitch for n in score.notes)
    assert written == sorted(MELODY + CHORDS[0] + CHORDS[1])

    (perf,) = write_performances(work, 1, 7, tmp_path / "midi", tmp_path / "corpus")
    again = write_performances(work, 1, 7, tmp_path / "midi2", tmp_path / "corpus")
    assert perf[0].read_bytes() == again[0][0].read_bytes()  # deterministic per seed
    plan = RenderPlan(segment_seconds=30.0)
    (job,) = plan_music21_jobs([perf], plan)
    assert job.split == "train" and job.source == "music21" and job.preset in TRAIN_PRESETS
    assert job.duration < 10  # a short piece is one segment of its own length
    meta = render_job(job, tmp_path / "data")
    assert meta["source"] == "music21"

    features = FeatureConfig()
    sampler = CropSampler(tmp_path / "data", "train", features, crop_frames=64, seed=0)
    (segment,) = sampler.segments
    assert sorted(n.pitch for n in segment.notes) == written
    assert np.abs(segment.audio).max() > 1000
    batch = sampler.batch(2)
    assert batch.frame.shape == (2, 64, 88) and batch.frame.sum() > 0
    with np.load(tmp_path / "data" / "train" / f"{job.segment_id}.npz") as z:
        assert json.loads(str(z["meta"]))["source"] == "music21"


def test_a_work_that_may_be_an_evaluation_piece_is_left_out():
    folders = ["Chopin/Mazurkas/op_6_2", "Bach/Prelude/bwv_846", "Schumann/Kreisleriana/2"]
    same_number = Music21Work("x.mxl", "Johann Sebastian Bach", "Prelude and Fugue BWV 846")
    same_title_word = Music21Work("y.mxl", "Frederic Chopin", "Mazurka in C-sharp minor")
    other_piece = Music21Work("z.mxl", "Clara Schumann", "Polonaise Op. 1 No. 1")
    other_composer = Music21Work("w.mxl", "Sergei Lyapunov", "Prelude Op. 6")
    assert evaluation_twin(same_number, folders) == "Bach/Prelude/bwv_846"
    assert evaluation_twin(same_title_word, folders) == "Chopin/Mazurkas/op_6_2"
    assert evaluation_twin(other_piece, folders) is None
    assert evaluation_twin(other_composer, folders) is None
    assert catalogue_numbers("Impromptu_op.90_D.899") == {"op90", "d899"}
    assert catalogue_numbers("Sonata KV 545") == catalogue_numbers("Sonata K. 545") == {"k545"}


def test_no_training_work_is_an_asap_validation_or_benchmark_work():
    splits = read_splits()
    evaluation = splits["validation"] + splits["benchmark"]
    works = training_works(evaluation)
    paths = {w.path for w in works}
    assert "bach/bwv846.mxl" not in paths  # its prelude is a validation work
    assert all(evaluation_twin(w, evaluation) is None for w in works)
    assert len(bach_chorales(corpus_root())) > 300 and sum(w.parts == SATB for w in works) > 300
    assert all(w.path in paths for w in KEYBOARD_WORKS if w.path != "bach/bwv846.mxl")
    assert all((corpus_root() / w.path).is_file() for w in works)


def test_render_names_an_unknown_source(tmp_path, capsys):
    from notestream.cli import main

    assert main(["data", "render", "--sources", "asap,musescore", "--data-dir", str(tmp_path)]) == 2
    assert "--sources: unknown musescore" in capsys.readouterr().err


def test_the_rhythm_works_add_ensembles_and_a_third_of_the_chorales_and_no_evaluation_piece():
    evaluation = [w for s in ("validation", "benchmark") for w in read_splits()[s]]
    works = rhythm_works(evaluation)
    paths = [w.path for w in works]
    assert len(paths) == len(set(paths)) and not any(p.rsplit(".", 1)[0] + ".mxl" in paths for p in paths if p.endswith(".krn"))
    assert {w.parts for w in works} == {KEYBOARD, SATB, ENSEMBLE}
    assert sum(w.parts == SATB for w in works) == len(bach_chorales(corpus_root())[::3])
    assert all(evaluation_twin(w, evaluation) is None for w in works)
    assert not any(p.startswith("mozart/k545/") for p in paths if p not in {w.path for w in KEYBOARD_WORKS})


def test_each_played_part_has_the_hand_a_pianist_would_give_it():
    assert part_hands(KEYBOARD, 2) == [1, 0]
    assert part_hands(KEYBOARD, 1) == [None]
    assert part_hands(SATB, 4) == [1, 1, 0, 0]
    assert part_hands(ENSEMBLE, 4) == [1, None, None, 0]
    assert part_hands(ENSEMBLE, 3) == [1, None, 0]


def test_a_read_score_has_its_bars_metre_key_and_hands(tmp_path):
    work = write_tiny_score(tmp_path / "corpus")
    score = read_score(work, tmp_path / "corpus")
    assert [(b.offset, b.length, b.pickup, b.time_signature) for b in score.written_bars] == [(0.0, 4.0, 0.0, "4/4"), (4.0, 4.0, 0.0, "4/4")]
    assert {n.hand for n in score.notes if n.pitch in MELODY} == {1}
    assert {n.hand for n in score.notes if n.pitch < 66} == {0}
