"""`bench latency --via`: the paths are checked, JACK arrivals pair with what was played, and RESULTS.md
shows one table per path with the load it was measured under."""

from __future__ import annotations

import json

import numpy as np
import pytest

from notestream_bench.browser_latency import MIC_RATE, capture_offset
from notestream_bench.jack_latency import paired_in_order
from notestream_bench.latency_bench import chosen_paths
from notestream_bench.report import results_markdown
from notestream_bench.stream_bench import strike_row


def test_unknown_paths_are_refused_with_the_choices():
    assert chosen_paths("python, jack") == ["python", "jack"]
    with pytest.raises(ValueError, match="unknown path.*midi.*choose from python, browser, jack"):
        chosen_paths("python,midi")


def test_a_note_on_lost_before_the_port_is_left_out_and_the_rest_stay_paired():
    played = [(60, 1.0), (64, 1.5), (67, 2.0)]
    arrived = [(10.2, 60), (11.1, 67)]
    assert paired_in_order(played, arrived) == [((60, 1.0), 10.2), ((67, 2.0), 11.1)]


def test_the_capture_offset_is_found_either_side_of_the_files_start():
    rng = np.random.default_rng(0)
    wav = np.concatenate([np.zeros(MIC_RATE // 2), rng.standard_normal(2 * MIC_RATE)]).astype(np.float32)
    assert capture_offset(wav[300:MIC_RATE + 300], wav, MIC_RATE) == 300
    early = np.concatenate([np.zeros(200, np.float32), wav[: MIC_RATE]])
    assert capture_offset(early, wav, MIC_RATE) == -200
    with pytest.raises(RuntimeError, match="does not match the microphone WAV"):
        capture_offset(rng.standard_normal(MIC_RATE).astype(np.float32), wav, MIC_RATE)


def test_a_buffer_the_device_dropped_after_the_first_sound_does_not_blur_the_capture_offset():
    rng = np.random.default_rng(1)
    wav = np.concatenate([np.zeros(MIC_RATE), rng.standard_normal(3 * MIC_RATE)]).astype(np.float32)
    captured = wav[150: 3 * MIC_RATE]
    for lost_at in (2.0, 0.35):  # seconds after the first sound; CI saw one 0.35 s after it
        cut = MIC_RATE - 150 + int(lost_at * MIC_RATE)
        dropped = np.concatenate([captured[:cut], captured[cut + 441:]])  # one 10 ms buffer lost
        assert capture_offset(dropped, wav, MIC_RATE) == 150
    with pytest.raises(RuntimeError, match="captured only silence"):
        capture_offset(np.zeros(MIC_RATE, np.float32), wav, MIC_RATE)


def test_results_show_a_table_per_path_the_load_and_a_failed_path_s_error(tmp_path):
    browser = strike_row("low", 0.144, [0.2, 0.21, 0.25], 4, note_ons=3, capture_started_s=0.01,
                         packet_delay_above_least={"p50_ms": 10.0, "p95_ms": 12.0, "p99_ms": 13.0})
    report = {"benchmark": "latency", "seconds_per_stream": 20.0, "chunk_ms": 20.0, "streams": 1, "client": "Python",
              "note": "A busy machine.", "sender": "chunk end", "load_average_1min": {"browser": [4.0, 5.5]},
              "via_browser": {"client": "Chromium", "microphone_rate": 44100, "lead_in_s": 2.0, "latencies": [browser]},
              "via_jack": {"error": "FileNotFoundError: jackd is not installed"}}
    (tmp_path / "latency_paths.json").write_text(json.dumps(report))
    text = results_markdown(tmp_path).split("## Live note-on latency through the Python client")[1].split("\n## ")[0]
    assert "A busy machine." in text and "browser 4 → 5.5" in text
    assert "| low | 144.0 | 210.0 / 246.0 / 249.2 | 3 / 4 | 0.01 | 10.0 / 12.0 |" in text
    assert "JACK: not measured (FileNotFoundError: jackd is not installed)." in text
    assert "AudioWorklet gathers 40 ms packets" in text
