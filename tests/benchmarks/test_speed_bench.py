"""`notestream bench speed`: a table and JSON per input, and memory that stays flat as inputs grow."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from notestream.audio import write_wav
from notestream.cli import main
from notestream_bench.speed_bench import RENDER_RATE, format_markdown, generated_piece, write_piano_wav


def test_generated_piece_is_a_dense_pedalled_piano_texture_of_the_asked_length() -> None:
    piece = generated_piece(60.0)
    assert 6 <= len(piece.notes) / 60 <= 12
    assert max(n.offset for n in piece.notes) <= 60.0 and len(piece.pedals) >= 25
    assert generated_piece(60.0) == piece  # seeded


def test_generated_input_is_the_piece_repeated_to_the_asked_length(tmp_path: Path) -> None:
    path = write_piano_wav(tmp_path / "piano.wav", 4.5, piece_seconds=3.0)
    with wave.open(str(path)) as w:
        assert w.getnframes() == 4.5 * w.getframerate() == 4.5 * RENDER_RATE
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    assert np.abs(pcm).max() > 1000
    np.testing.assert_array_equal(pcm[: 3 * RENDER_RATE // 2], pcm[3 * RENDER_RATE:])


def test_speed_report_measures_each_input_and_memory_stays_flat_as_inputs_grow(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    noise = np.random.default_rng(0).normal(0, 0.05, 16000 * 200).astype(np.float32)
    write_wav(tmp_path / "long.wav", noise, 16000)
    write_wav(tmp_path / "short.wav", noise[: 16000 * 25], 16000)
    report_path = tmp_path / "speed.json"
    assert main(["bench", "speed", "--audio", str(tmp_path / "short.wav"), str(tmp_path / "long.wav"),
                 "--device", "cpu", "--threads", "1", "--json", str(report_path)]) == 0
    table = capsys.readouterr().out
    assert "x real time" in table and "long.wav" in table and "target 50x real time" in table
    report = json.loads(report_path.read_text())
    short, long = report["results"]
    assert (short["audio_seconds"], long["audio_seconds"]) == (25.0, 200.0)
    assert long["speed"] > 0 and long["cpu_seconds"] > 0 and long["threads"] == 1
    # 8x the audio. Held whole, its mel and CNN activations alone would add some 200 MB; streamed, memory
    # grows only by the transcription itself (generously 1 kB a note: an untrained model finds thousands).
    growth = long["peak_rss_mb"] - short["peak_rss_mb"]
    assert growth < 30 + (long["notes"] - short["notes"]) / 1000
    markdown = format_markdown(report)
    assert markdown.count("\n| long.wav |") == 1 and "Target 50x real time" in markdown
