"""`bench process-speed`: whole processes on one recording, ours beside basic-pitch's, and its RESULTS.md section."""

from __future__ import annotations

import sys
from pathlib import Path

from notestream_bench.process_speed_bench import (
    BASIC_PITCH,
    OURS_DEFAULT,
    OURS_MIDI,
    commands,
    format_markdown,
    summarise,
)
from tests.benchmarks.test_bench_command import bench_names


def test_process_speed_is_registered_under_bench():
    assert "process-speed" in bench_names()


def test_ours_run_as_a_user_runs_them_and_basic_pitch_only_where_installed(tmp_path):
    found = commands(Path("in.wav"), tmp_path / "out", tmp_path / "no-peers")
    assert set(found) == {OURS_DEFAULT, OURS_MIDI}
    command, out = found[OURS_MIDI]
    assert command[:4] == [sys.executable, "-m", "notestream", "transcribe"] and command[-2:] == ["--formats", "mid"]
    assert out == tmp_path / "out" / "ours-mid" and str(out) in command
    (tmp_path / "peers" / "basic-pitch" / "bin").mkdir(parents=True)
    (tmp_path / "peers" / "basic-pitch" / "bin" / "basic-pitch").touch()
    assert BASIC_PITCH in commands(Path("in.wav"), tmp_path / "out", tmp_path / "peers")


def test_report_takes_medians_and_says_whether_the_default_transcribe_beats_basic_pitch():
    runs = {OURS_DEFAULT: [{"wall_seconds": 9.0, "cpu_seconds": 12.0}, {"wall_seconds": 7.0, "cpu_seconds": 11.0},
                           {"wall_seconds": 8.0, "cpu_seconds": 13.0}],
            BASIC_PITCH: [{"wall_seconds": 10.0, "cpu_seconds": 10.0}] * 3}
    report = summarise(runs, 300.0, 3)
    assert report["systems"][OURS_DEFAULT]["wall_seconds"] == 8.0 and report["systems"][OURS_DEFAULT]["cpu_seconds"] == 12.0
    assert report["faster_than_basic_pitch"] == {OURS_DEFAULT: 1.25}
    report["input"] = "generated piano, 5 min"
    assert "faster than basic-pitch as a whole process: **met**" in format_markdown(report)
