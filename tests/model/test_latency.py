"""Named latencies: shorter streaming windows of one checkpoint, each with its own calibrated decoder."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from notestream.model.checkpoint import (
    CheckpointError,
    algorithmic_latency,
    latency_names,
    load_checkpoint,
    save_checkpoint,
    with_latency,
)
from notestream.model.config import DecoderConfig, LatencyPreset, ViewConfig, WindowConfig
from notestream.model.inference import TranscriptionStream, advance_streams
from notestream.model.transcriber import Transcriber
from tests.model.model_fixtures import small_model

LOW = LatencyPreset(WindowConfig(1, 1), ViewConfig((0,)), DecoderConfig(0.25, 0.25))


def model_with_low_latency():
    loaded = small_model(WindowConfig(8, 4))
    loaded.latencies["low"] = LOW
    return loaded


def test_a_latency_preset_survives_saving_and_loading(tmp_path):
    save_checkpoint(tmp_path / "m.pt", model_with_low_latency())
    loaded = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert loaded.latencies == {"low": LOW}
    assert latency_names(loaded) == ["low", "accurate"]
    low = with_latency(loaded, "low")
    assert (low.window, low.views, low.decoder) == (LOW.window, LOW.views, LOW.decoder)
    assert with_latency(loaded, "accurate") is loaded


def test_an_unknown_latency_is_refused_with_the_names_there_are():
    with pytest.raises(CheckpointError, match=r"no latency 'instant' \(it has: low, accurate\)"):
        with_latency(model_with_low_latency(), "instant")


def test_algorithmic_latency_counts_block_look_ahead_cnn_context_and_half_the_stft_window():
    features = small_model().features  # 16 ms frames, n_fft 2048 at 16 kHz: 64 ms of half window
    assert algorithmic_latency(features, WindowConfig(8, 4)) == pytest.approx(0.304)
    assert algorithmic_latency(features, WindowConfig(1, 1)) == pytest.approx(0.144)


def test_the_latency_of_a_decoder_counts_the_frames_it_holds_back():
    features = small_model().features
    assert algorithmic_latency(features, WindowConfig(1, 1), DecoderConfig()) == pytest.approx(0.160)
    assert algorithmic_latency(features, WindowConfig(1, 1), DecoderConfig(onset_on_rise=True, end_frames=2)) == pytest.approx(0.144)
    assert algorithmic_latency(features, WindowConfig(1, 1), DecoderConfig(end_frames=4)) == pytest.approx(0.176)


def test_an_asymmetric_stft_window_counts_only_its_future_samples():
    features = replace(small_model().features, future_samples=256)  # 16 ms instead of 64
    assert algorithmic_latency(features, WindowConfig(1, 1)) == pytest.approx(0.096)


def test_a_transcriber_streams_at_each_latency_and_reports_it():
    transcriber = Transcriber(model_with_low_latency())
    assert transcriber.latencies == ["low", "accurate"]
    assert transcriber.latency_seconds("low") == pytest.approx(0.144 + 0.016)  # the peak decoder holds a frame
    assert transcriber.latency_seconds("accurate") == pytest.approx(transcriber.lookahead_seconds)
    assert transcriber.stream("low").window == LOW.window
    assert transcriber.stream().window == WindowConfig(8, 4)


def test_streams_at_different_latencies_batched_together_give_what_each_gives_alone(piano_audio):
    loaded = model_with_low_latency()
    low = with_latency(loaded, "low")
    together = [TranscriptionStream(loaded), TranscriptionStream(low), TranscriptionStream(low)]
    alone = [TranscriptionStream(loaded), TranscriptionStream(low), TranscriptionStream(low)]
    got, expected = [[] for _ in together], [[] for _ in alone]
    for chunk in np.array_split(piano_audio, 7):
        for i, events in enumerate(advance_streams(together, [chunk, chunk, chunk[::-1].copy()])):
            got[i] += events
        for i, (stream, audio) in enumerate(zip(alone, [chunk, chunk, chunk[::-1].copy()], strict=True)):
            expected[i] += stream.push(audio)
    for i in range(3):
        got[i] += together[i].finish()
        expected[i] += alone[i].finish()
    assert [len(e) for e in expected] == [len(g) for g in got] and len(expected[1]) > 0
    for a, b in zip(got, expected, strict=True):
        assert [(e.kind, e.pitch) for e in a] == [(e.kind, e.pitch) for e in b]
        np.testing.assert_allclose([e.time for e in a], [e.time for e in b], atol=1e-9)


def test_calibrating_a_latency_makes_the_preset_and_leaves_the_checkpoints_own_settings(tmp_path, capsys):
    from notestream.cli import main
    from tests.model.data.tiny_corpus import write_tiny_corpus

    data = write_tiny_corpus(tmp_path / "data")
    before = small_model(WindowConfig(8, 4))
    save_checkpoint(tmp_path / "m.pt", before)
    assert main(["calibrate", str(tmp_path / "m.pt"), "--data-dir", str(data), "--latency", "low", "--hop", "1",
                 "--lookahead", "1", "--views=0", "--validation-segments", "1"]) == 0
    after = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert (after.window, after.decoder) == (before.window, before.decoder)
    assert after.latencies["low"].window == WindowConfig(1, 1)
    assert "low" in after.metadata["latency_calibration"]
    assert "(low)" in capsys.readouterr().out
    assert main(["calibrate", str(tmp_path / "m.pt"), "--data-dir", str(data), "--latency", "Low!"]) == 2


def test_a_latency_can_take_its_onsets_on_their_rise_and_keeps_that_rule_when_recalibrated(tmp_path):
    from notestream.cli import main
    from tests.model.data.tiny_corpus import write_tiny_corpus

    data = write_tiny_corpus(tmp_path / "data")
    save_checkpoint(tmp_path / "m.pt", small_model(WindowConfig(8, 4)))
    common = ["calibrate", str(tmp_path / "m.pt"), "--data-dir", str(data), "--views=0", "--validation-segments", "1"]
    assert main([*common, "--latency", "low", "--hop", "1", "--lookahead", "1", "--onset-rule", "rise"]) == 0
    assert main([*common, "--latency", "low"]) == 0
    after = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert after.latencies["low"].decoder.onset_on_rise and not after.decoder.onset_on_rise
