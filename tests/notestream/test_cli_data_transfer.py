"""`notestream data pack` / `data unpack`: a rendered corpus to another machine's data folder, losslessly."""

from __future__ import annotations

import numpy as np

from notestream.cli import main
from notestream.model.data.corpus import iter_segments
from tests.model.data.tiny_corpus import write_tiny_corpus


def test_pack_and_unpack_through_the_cli_give_training_the_same_segments(tmp_path, capsys):
    root = write_tiny_corpus(tmp_path / "here")
    assert main(["data", "pack", str(tmp_path / "packed"), "--data-dir", str(root), "--splits", "train,validation:1",
                 "--chunk-mb", "0.05", "--workers", "1"]) == 0
    assert "chunks" in capsys.readouterr().out
    assert main(["data", "unpack", str(tmp_path / "packed"), "--data-dir", str(tmp_path / "there"), "--workers", "1"]) == 0
    assert "train 3 segments, validation 1 segments" in capsys.readouterr().out
    for split in ("train", "validation"):
        here = list(iter_segments(root, split, 16000))
        there = list(iter_segments(tmp_path / "there", split, 16000))
        assert [s.segment_id for s in here] == [s.segment_id for s in there]
        for a, b in zip(here, there, strict=True):
            assert np.array_equal(a.audio, b.audio) and a.notes == b.notes and a.pedals == b.pedals
