"""Warming a transcriber up for live batches: every padded batch size once, and no trace left in later streams."""

from __future__ import annotations

import numpy as np

from notestream.model.inference import advance_streams
from notestream.model.transcriber import Transcriber
from tests.model.model_fixtures import small_model


def events_of_two_streams(transcriber: Transcriber, audio: np.ndarray) -> list:
    streams = [transcriber.stream(), transcriber.stream()]
    found = advance_streams(streams, [audio, audio[::-1].copy()])
    return found + [stream.finish() for stream in streams]


def test_warm_up_covers_every_batch_size_that_up_to_n_streams_pad_to():
    transcriber = Transcriber(small_model())
    transcriber.warm_up_streams(5)
    assert transcriber.warm_batches == {"accurate": {1, 2, 3, 4, 6}}
    transcriber.warm_up_streams(8)
    assert transcriber.warm_batches["accurate"] == {1, 2, 3, 4, 6, 8}


def test_warm_up_leaves_no_state_behind_in_later_streams():
    rng = np.random.default_rng(4)
    audio = (0.2 * rng.standard_normal(16000)).astype(np.float32)
    cold = events_of_two_streams(Transcriber(small_model()), audio)
    warmed = Transcriber(small_model())
    warmed.warm_up_streams(3)
    assert events_of_two_streams(warmed, audio) == cold and any(cold)


def test_warm_up_meets_every_cnn_shape_a_live_load_meets(monkeypatch):
    import notestream.model.incremental as incremental

    shapes: dict[str, set] = {"warm-up": set(), "load": set()}
    phase, run_cnn = ["warm-up"], incremental.cnn_features
    monkeypatch.setattr(incremental, "cnn_features", lambda cnn, x, dtype: shapes[phase[0]].add(tuple(x.shape))
                        or run_cnn(cnn, x, dtype))
    transcriber = Transcriber(small_model())
    transcriber.warm_up_streams(6)
    phase[0] = "load"
    rng = np.random.default_rng(1)
    streams = [transcriber.stream(keep_result=False) for _ in range(6)]
    for _ in range(60):  # rounds of a random subset, mostly 20-60 ms chunks, sometimes a backlog up to 1.2 s
        chosen = rng.choice(6, int(rng.integers(1, 7)), replace=False)
        sizes = [int(rng.integers(320, 19200)) if rng.random() < 0.3 else 320 * int(rng.integers(1, 4)) for _ in chosen]
        advance_streams([streams[i] for i in chosen], [np.zeros(k, np.float32) for k in sizes])
    assert shapes["load"] and shapes["load"] <= shapes["warm-up"]
