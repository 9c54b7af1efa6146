"""Archive transcription on one machine: worker processes, batched files, resuming, failures in the summary."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from notestream.archive import ArchiveItem, InlineExecutor, ModelSpec, ProcessExecutor, run_archive
from notestream.archive.work import transcribe_together, worker_transcriber
from notestream.cli import main
from notestream.model.transcriber import Transcriber

FORMATS = ["mid", "json"]


@pytest.fixture(scope="module")
def transcriber() -> Transcriber:
    """This process's worker model, which the in-process runs below (CPU, default settings) reuse."""
    return worker_transcriber(ModelSpec(device="cpu"))


def test_files_transcribed_together_give_each_file_its_own_transcription(transcriber: Transcriber, piano_wav: Path,
                                                                          tmp_path: Path) -> None:
    short = tmp_path / "short.wav"
    shutil.copy(piano_wav, short)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really")
    together = transcribe_together(transcriber, [piano_wav, broken, short])
    alone = transcriber.transcribe(piano_wav)
    assert together[0].notes == alone.notes and together[2].notes == alone.notes and alone.notes
    assert isinstance(together[1], str) and "broken.wav" in together[1]


def test_worker_processes_transcribe_a_folder_and_a_rerun_skips_what_is_done(
    transcriber: Transcriber, piano_wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("a.wav", "b.wav", "c.wav"):
        shutil.copy(piano_wav, inputs / name)
    (inputs / "d.wav").write_bytes(b"not audio at all")
    out, summary_path = tmp_path / "out", tmp_path / "summary.json"
    argv = ["transcribe", str(inputs), "-o", str(out), "--formats", "mid,json", "--no-progress", "--device", "cpu",
            "--summary-json", str(summary_path)]
    assert main([*argv, "--jobs", "2"]) == 1  # d.wav fails, the others are done
    summary = json.loads(summary_path.read_text())
    assert (summary["files"], summary["done"], summary["skipped"], summary["workers"]) == (4, 3, 0, 2)
    assert [f["audio"] for f in summary["failed"]] == [str(inputs / "d.wav")] and "d.wav" in summary["failed"][0]["reason"]
    assert summary["audio_seconds"] == pytest.approx(3 * 2.4, abs=0.3) and summary["real_time_factor"] > 0
    assert summary["done_at"] == sorted(summary["done_at"]) and sum(summary["done_audio"]) == summary["audio_seconds"]
    assert summary["steady_real_time_factor"] > 0  # the last two files' audio over the time from the first done
    notes = [json.loads((out / f"{name}.json").read_text())["notes"] for name in "abc"]
    assert notes[0] == notes[1] == notes[2] and notes[0]
    assert "4 file(s): 3 transcribed, 0 already done, 1 failed" in capsys.readouterr().err

    (inputs / "d.wav").unlink()
    (out / "b.json").unlink(), (out / "b.mid").unlink()
    assert main(argv) == 0
    summary = json.loads(summary_path.read_text())
    assert (summary["done"], summary["skipped"], summary["done_files"]) == (1, 2, [str(inputs / "b.wav")])


def test_an_executor_yields_one_outcome_per_file(transcriber: Transcriber, piano_wav: Path, tmp_path: Path) -> None:
    items = [ArchiveItem(piano_wav, tmp_path / "one"), ArchiveItem(tmp_path / "missing.wav", tmp_path / "two")]
    spec = ModelSpec(device="cpu")
    summary = run_archive(items, FORMATS, InlineExecutor(spec, FORMATS), show_progress=False)
    assert (summary.done, len(summary.failed)) == (1, 1) and "missing.wav" in summary.failed[0].reason
    with pytest.raises(ValueError, match="--jobs must be at least 1"):
        ProcessExecutor(spec, FORMATS, 0)
