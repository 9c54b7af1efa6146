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
