"""`notestream data maestro` on a tiny MAESTRO-layout fixture the test builds itself."""

import csv

import numpy as np

from notestream.audio import write_wav
from notestream.model.data.corpus import iter_segments
from notestream.midi import write_midi
from notestream.notes import Note, PedalSpan, Performance
from notestream.cli import main
from tests.conftest import render_piano


def make_maestro(root):
    rows = []
    for i, split in enumerate(("train", "validation", "test")):
        perf = Performance([Note(0.2 + 0.5 * k, 0.6 + 0.5 * k, 60 + i + k, 80) for k in range(6)], [PedalSpan(1.0, 2.0)])
        (root / "2018").mkdir(parents=True, exist_ok=True)
        write_midi(perf, root / "2018" / f"piece{i}.midi")
        write_wav(root / "2018" / f"piece{i}.wav", render_piano(perf), 16000)
        rows.append({"canonical_composer": "Anon", "canonical_title": f"Piece {i}", "split": split, "year": 2018,
                     "midi_filename": f"2018/piece{i}.midi", "audio_filename": f"2018/piece{i}.wav", "duration": 3.5})
    with (root / "maestro-v3.0.0.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_maestro_is_prepared_with_its_official_split_in_the_training_layout(tmp_path, capsys):
    make_maestro(tmp_path / "maestro-v3.0.0")
    assert main(["data", "maestro", str(tmp_path / "maestro-v3.0.0"), "--data-dir", str(tmp_path / "data"), "--segment-seconds", "2"]) == 0
    root = tmp_path / "data" / "maestro"
    for split, pitch in (("train", 60), ("validation", 61), ("benchmark", 62)):
        segments = list(iter_segments(root, split, 16000))
        assert len(segments) == 2  # 3.5 s of audio in 2 s segments
        first, second = segments
        assert first.audio.size == 32000 and np.abs(first.audio).max() > 1000
        assert [n.pitch for n in first.notes if n.onset >= 0] == [pitch, pitch + 1, pitch + 2, pitch + 3]
        assert first.pedals == [PedalSpan(1.0, 2.0)] and not second.pedals
        assert (root / split / "manifest.json").is_file()
    assert "train on it with" in capsys.readouterr().out


def test_a_folder_without_the_csv_is_a_clear_error(tmp_path, capsys):
    assert main(["data", "maestro", str(tmp_path)]) == 2
    assert "maestro-v" in capsys.readouterr().err
