"""Archive transcription on a real two-node Ray cluster, with a worker killed while it holds a file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from notestream.audio import write_wav
from tests.conftest import random_phrase, render_piano

FILES, SECONDS = 6, 8.0
TASK_TITLE = b"ray::_remote_transcribe"  # Ray names a worker process after the task it is running


def running_task_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "cmdline").read_bytes().startswith(TASK_TITLE):
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("archive")
    for i in range(FILES):
        write_wav(folder / f"take{i}.wav", render_piano(random_phrase(i, SECONDS), seconds=SECONDS), 16000)
    return folder


def kill_a_worker_in_flight(run: subprocess.Popen, out: Path, timeout: float = 240.0) -> int:
    """Once a file is done (models loaded), SIGKILL a worker process in the middle of its next file."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and run.poll() is None:
        if list(out.glob("*.json")) and (pids := running_task_pids()):
            os.kill(pids[0], signal.SIGKILL)
            return pids[0]
        time.sleep(0.05)
    raise AssertionError("no Ray worker was seen transcribing a file")


def test_a_ray_cluster_transcribes_every_file_once_though_a_worker_dies(ray_cluster: str, archive: Path,
                                                                          tmp_path: Path) -> None:
    out, summary_path = tmp_path / "out", tmp_path / "summary.json"
    command = [sys.executable, "-m", "notestream", "transcribe", str(archive), "-o", str(out), "--formats", "mid,json",
               "--device", "cpu", "--no-progress", "--ray", ray_cluster, "--summary-json", str(summary_path)]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    killed = kill_a_worker_in_flight(run, out)
    output, _ = run.communicate(timeout=300)
    assert run.returncode == 0, output
    summary = json.loads(summary_path.read_text())
    assert summary["failed"] == [] and summary["workers"] == 2
    assert sorted(summary["done_files"]) == sorted(set(summary["done_files"]))  # none done twice
    assert summary["done"] + summary["skipped"] == FILES and summary["done"] >= FILES - 1
    assert summary["audio_seconds"] == pytest.approx(summary["done"] * SECONDS, abs=0.1)
    for i in range(FILES):
        record = json.loads((out / f"take{i}.json").read_text())
        assert record["notes"] and record["duration"] == pytest.approx(SECONDS, abs=0.05)
    workers = {line.split()[-1] for line in output.splitlines() if "->" in line}
    assert killed and workers  # the summary lines name each file's output


def test_joining_no_cluster_is_a_clear_error(tmp_path: Path, archive: Path) -> None:
    run = subprocess.run([sys.executable, "-m", "notestream", "transcribe", str(archive / "take0.wav"), "-o",
                          str(tmp_path), "--ray", "127.0.0.1:9", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "could not join the Ray cluster at 127.0.0.1:9" in run.stderr
