"""Streaming through the server gives the notes `Transcriber.transcribe` gives the same file."""

from __future__ import annotations

import asyncio

from notestream.model.evaluation import note_metrics
from tests.stream_server.stream_test_client import notes_of, pcm_bytes, split_randomly, stream_whole


def test_streamed_16k_audio_in_random_chunks_matches_offline_transcription(server, piano_16k, transcriber):
    data, rate, channels = pcm_bytes(piano_16k)
    events, final, _ = asyncio.run(stream_whole(server.ws, split_randomly(data, seed=3), rate, channels))
    offline = transcriber.transcribe(piano_16k).notes
    streamed = notes_of(events)
    assert len(offline) > 0, "the model must emit notes on this audio for the comparison to mean anything"
    assert final["notes"] == len(streamed)
    assert note_metrics(streamed, offline).note_f1 >= 0.99
    assert [m["seq"] for m in events] == list(range(1, len(events) + 1))


def test_streamed_44k_stereo_float_audio_is_resampled_like_the_file_decoder(server, piano_44k_stereo, transcriber):
    data, rate, channels = pcm_bytes(piano_44k_stereo, encoding="f32le")
    events, final, _ = asyncio.run(stream_whole(server.ws, split_randomly(data, seed=4, high=60000), rate, channels, "f32le"))
    offline = transcriber.transcribe(piano_44k_stereo).notes
    assert len(offline) > 0
    assert note_metrics(notes_of(events), offline).note_f1 >= 0.99
    assert abs(final["duration"] - 3.0) < 0.01


def test_concurrent_sessions_are_batched_and_each_matches_offline(server, piano_16k, piano_44k_stereo, transcriber):
    files = [(piano_16k, "pcm_s16le", 5), (piano_44k_stereo, "f32le", 6), (piano_16k, "f32le", 7), (piano_16k, "pcm_s16le", 8)]

    async def all_at_once():
        runs = []
        for path, encoding, seed in files:
            data, rate, channels = pcm_bytes(path, encoding=encoding)
            runs.append(stream_whole(server.ws, split_randomly(data, seed=seed, high=8000), rate, channels, encoding))
        return await asyncio.gather(*runs)

    results = asyncio.run(all_at_once())
    for (path, _, _), (events, final, _) in zip(files, results, strict=True):
        offline = transcriber.transcribe(path).notes
        assert len(offline) > 0 and final["notes"] == len(notes_of(events))
        assert note_metrics(notes_of(events), offline).note_f1 >= 0.99
    batcher = server.state.batcher
    assert batcher.items > batcher.rounds, "concurrent sessions should have shared model rounds"
