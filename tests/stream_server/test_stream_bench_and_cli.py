"""The latency benchmark measures real streams; `notestream serve` options become a ServerConfig."""

from __future__ import annotations

import argparse
import asyncio

import pytest

from notestream.commands.serve import config_from_args
from notestream.commands.serve import register as register_serve
from notestream.notes import Note
from notestream_bench.stream_bench import (
    StrikeClock,
    reference_clip,
    register_stream_bench,
    run_streams,
    stream_in_real_time,
    summarise,
)
from tests.stream_server.conftest import piano_clip


def test_real_time_streams_report_note_on_latency_and_account_for_all_audio(server):
    reports = asyncio.run(run_streams(server.ws, [piano_clip(16000, seconds=2.0)], n=2, seconds=1.5, chunk_ms=50))
    summary = summarise(reports, target_p95=10_000)
    assert summary["streams"] == 2 and summary["errors"] == []
    assert summary["note_ons"] > 0 and 0 < summary["p50_ms"] <= summary["p95_ms"] <= summary["p99_ms"]
    assert summary["all_audio_accounted"] and isinstance(summary["sustained"], bool)


def test_latency_from_the_strike_counts_from_the_reference_onset_of_the_same_key(server):
    audio, notes = reference_clip(seed=3, seconds=2.5)
    report = asyncio.run(stream_in_real_time(server.ws, audio, chunk_ms=20, reference=notes))
    assert report.error is None and report.lookahead == pytest.approx(0.32)
    assert 0 < len(report.strike_latencies) <= len(report.latencies)
    assert sorted(report.strike_latencies)[len(report.strike_latencies) // 2] > sorted(report.latencies)[len(report.latencies) // 2]


def test_a_note_on_is_matched_to_the_nearest_onset_of_its_key_within_50_ms():
    clock = StrikeClock([Note(1.0, 1.5, 60), Note(2.0, 2.5, 60), Note(1.0, 1.5, 64)])
    clock.started = 100.0
    assert clock.struck(60, 1.03) == pytest.approx(101.0)
    assert clock.struck(60, 1.96) == pytest.approx(102.0)
    assert clock.struck(60, 1.3) is None and clock.struck(61, 1.0) is None


def test_bench_registers_latency_and_load_subcommands():
    parser = argparse.ArgumentParser()
    register_stream_bench(parser.add_subparsers())
    args = parser.parse_args(["load", "--max-streams", "3", "--audio", "a.wav", "b"])
    assert args.max_streams == 3 and [str(p) for p in args.audio] == ["a.wav", "b"] and callable(args.func)


def serve_args(argv: list[str], monkeypatch, **env) -> argparse.Namespace:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    parser = argparse.ArgumentParser()
    register_serve(parser.add_subparsers())
    return parser.parse_args(["serve", *argv])


def test_serve_options_and_environment_become_the_server_config(monkeypatch, tmp_path):
    args = serve_args(["--port", "9000", "--allowed-origins", "https://a.example, https://b.example", "--max-sessions", "3",
                       "--max-upload-mb", "5"], monkeypatch, NOTESTREAM_DATA=str(tmp_path), NOTESTREAM_API_KEY="k")
    config = config_from_args(args)
    assert (config.port, config.data_dir, config.api_key, config.max_sessions) == (9000, tmp_path, "k", 3)
    assert config.allowed_origins == ["https://a.example", "https://b.example"]
    assert config.max_upload_bytes == 5_000_000


def test_serve_refuses_nonsensical_limits(monkeypatch):
    with pytest.raises(ValueError, match="--max-sessions"):
        config_from_args(serve_args(["--max-sessions", "0"], monkeypatch))
