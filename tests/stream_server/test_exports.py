"""The sheet a user asks for in their tempo and metre: the query read as a hint, each hint's own folder, and
no more of them kept than the server allows."""

from __future__ import annotations

import os

import pytest

from notestream.score.meter import RhythmHint
from notestream.server.exports import hint_folder, prune_hinted_sheets, sheet_hint


def test_the_query_becomes_the_sheets_hint():
    assert sheet_hint({"tempo": "72.004", "time_signature": "6/8"}) == RhythmHint(72.0, "6/8")
    assert sheet_hint({"tempo": "auto"}) is None
    assert sheet_hint({}) is None
    with pytest.raises(ValueError, match="not one of"):
        sheet_hint({"time_signature": "7/8"})


def test_each_hint_has_its_own_folder_and_the_networks_reading_none():
    assert hint_folder(None) == ""
    assert hint_folder(RhythmHint(72.0, "6/8")) == "hint-72.00-6-8"
    assert hint_folder(RhythmHint(None, "3/4")) == "hint-auto-3-4"
    assert hint_folder(RhythmHint(60.5, None)) == "hint-60.50-auto"


def test_only_the_most_recent_hinted_sheets_are_kept(tmp_path):
    for age, tempo in enumerate(range(60, 72)):
        folder = tmp_path / hint_folder(RhythmHint(float(tempo), None))
        folder.mkdir()
        os.utime(folder, (1000 + age, 1000 + age))
    (tmp_path / "score.musicxml").write_text("the network's own sheet")
    prune_hinted_sheets(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "hint-69.00-auto", "hint-70.00-auto", "hint-71.00-auto", "score.musicxml"]
