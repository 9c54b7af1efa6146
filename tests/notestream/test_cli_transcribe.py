"""`notestream transcribe`: folders in, outputs out, no clobbering, clean interruption, video input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from notestream.audio import write_wav
from notestream.cli import main
from notestream.midi import read_midi

REPO_ROOT = Path(__file__).resolve().parents[2]
FAST = ["--formats", "mid,json,tsv,txt", "--no-progress", "--device", "cpu"]


@pytest.fixture
def recordings(tmp_path: Path, piano_wav: Path) -> Path:
    """A folder: a piano take, another in a sub-folder, a notes file that is not audio, a hidden temp file."""
    folder = tmp_path / "recordings"
    (folder / "day2").mkdir(parents=True)
    shutil.copy(piano_wav, folder / "take1.wav")
    shutil.copy(piano_wav, folder / "day2" / "take2.wav")
    (folder / "notes.md").write_text("not audio")
    (folder / ".take3.wav.part").write_bytes(b"half a file")
    return folder


def test_a_folder_is_transcribed_recursively_into_the_same_tree_skipping_other_files(
    recordings: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "out"
    assert main(["transcribe", str(recordings), "-o", str(out), *FAST]) == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == [
        "day2", "day2/take2.json", "day2/take2.mid", "day2/take2.tsv", "day2/take2.txt",
        "take1.json", "take1.mid", "take1.tsv", "take1.txt"]
    err = capsys.readouterr().err
    assert "skipped 1 file(s) that are not audio" in err and "notes.md" in err
    record = json.loads((out / "take1.json").read_text())
    assert record["duration"] == pytest.approx(2.4, abs=0.1)
    assert {"model", "lookahead_seconds", "window", "timing"} <= set(record["metadata"])
    midi_notes = read_midi(out / "take1.mid").notes
    assert [n.pitch for n in midi_notes] == [n["pitch"] for n in record["notes"]][: len(midi_notes)]


def test_existing_outputs_are_kept_unless_force_is_given(recordings: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    take = recordings / "take1.wav"
    (out).mkdir()
    (out / "take1.mid").write_bytes(b"keep me")
    assert main(["transcribe", str(take), "-o", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "take1.mid already exist" in err and "--force" in err
    assert (out / "take1.mid").read_bytes() == b"keep me" and not (out / "take1.json").exists()
    assert main(["transcribe", str(take), "-o", str(out), *FAST, "--force"]) == 0
    assert (out / "take1.mid").read_bytes() != b"keep me"


def test_inputs_sharing_a_name_keep_their_extension_in_the_output_name(piano_audio: np.ndarray, tmp_path: Path) -> None:
    write_wav(tmp_path / "take.wav", piano_audio, 16000)
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(tmp_path / "take.wav"), str(tmp_path / "take.flac")], check=True)
    out = tmp_path / "out"
    assert main(["transcribe", str(tmp_path / "take.wav"), str(tmp_path / "take.flac"), "-o", str(out),
                 "--formats", "mid", "--no-progress"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["take.flac.mid", "take.wav.mid"]


def test_video_files_are_transcribed_from_their_audio_track(piano_wav: Path, tmp_path: Path) -> None:
    video = tmp_path / "lesson.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=32x32:r=5", "-i", str(piano_wav),
                    "-shortest", "-c:v", "libx264", "-c:a", "aac", str(video)], check=True)
    assert main(["transcribe", str(video), "-o", str(tmp_path / "out"), *FAST]) == 0
    assert json.loads((tmp_path / "out" / "lesson.json").read_text())["duration"] == pytest.approx(2.4, abs=0.15)


@pytest.mark.parametrize(("argv", "message"), [
    (["no-such-take.wav"], "no-such-take.wav: no such file or folder"),
    (["{notes}"], "no audio or video files among the inputs"),
    (["{take}", "--formats", "mid,png"], "unknown output format(s) png"),
    (["{take}", "--tempo", "5"], "--tempo/--time-signature: tempo 5: give beats per minute from 10 to 400"),
    (["{take}", "--time-signature", "7/8"], "--tempo/--time-signature: time signature '7/8': not one of"),
    (["{take}", "--onset-threshold", "1.5"], "--onset-threshold 1.5: expected a probability between 0 and 1"),
])
def test_user_errors_are_one_line_naming_the_problem(
    argv: list[str], message: str, recordings: Path, capsys: pytest.CaptureFixture
) -> None:
    argv = [a.format(notes=recordings / "notes.md", take=recordings / "take1.wav") for a in argv]
    assert main(["transcribe", *argv, "-o", str(recordings.parent / "out"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert message in err[-1] and err[-1].startswith("notestream transcribe: error:")


def test_a_pdf_this_machine_cannot_draw_is_refused_before_any_transcription(
    recordings: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notestream.score import pdf

    monkeypatch.setattr(pdf, "RSVG_CONVERT", "rsvg-convert-not-installed")
    out = recordings.parent / "out"
    assert main(["transcribe", str(recordings / "take1.wav"), "-o", str(out), "--formats", "mid,pdf", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "--formats pdf: PDF export needs rsvg-convert-not-installed (Debian package librsvg2-bin)" in err[-1]
    assert not out.exists()


def test_the_sheet_is_written_in_the_time_signature_the_user_gives(piano_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["transcribe", str(piano_wav), "-o", str(out), "--formats", "musicxml", "--no-progress",
                 "--tempo", "90", "--time-signature", "6/8"]) == 0
    score = (out / f"{piano_wav.stem}.musicxml").read_text()
    assert "<beats>6</beats>" in score and "<beat-type>8</beat-type>" in score


def test_ctrl_c_keeps_finished_inputs_and_leaves_nothing_of_the_interrupted_one(piano_wav: Path, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(piano_wav, inputs / "a_short.wav")
    noise = np.random.default_rng(0).normal(0, 0.05, 16000 * 600).astype(np.float32)  # 10 min: long enough to interrupt
    write_wav(inputs / "b_long.wav", noise, 16000)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "notestream", "transcribe", str(inputs), "-o", str(out), *FAST],
                            cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        while "a_short.wav ->" not in seen:  # the short take is done; the long one has begun
            line = proc.stderr.readline()
            assert line, f"notestream exited early: {seen}"
            seen += line
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130, seen + rest
    assert sorted(p.name for p in out.iterdir()) == ["a_short.json", "a_short.mid", "a_short.tsv", "a_short.txt"]


def test_a_lower_onset_threshold_hears_every_note_the_default_hears_and_a_higher_one_fewer(
    piano_wav: Path, tmp_path: Path
) -> None:
    def notes(*extra: str) -> set[tuple[int, float]]:
        out = tmp_path / "-".join(extra or ("default",))
        assert main(["transcribe", str(piano_wav), "-o", str(out), *FAST, *extra]) == 0
        found = json.loads((out / f"{piano_wav.stem}.json").read_text())["notes"]
        return {(n["pitch"], round(n["onset"], 2)) for n in found}

    default = notes()
    assert default and default <= notes("--onset-threshold", "0.1")
    assert len(notes("--onset-threshold", "0.999")) < len(default)
