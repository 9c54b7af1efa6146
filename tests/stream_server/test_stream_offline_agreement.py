"""Streaming through the server gives the notes `Transcriber.transcribe` gives the same file."""

from __future__ import annotations

import asyncio

from stream_test_client import notes_of, pcm_bytes, split_randomly, stream_whole

from model.evaluation import score_notes


def test_streamed_16k_audio_in_random_chunks_matches_offline_transcription(server, piano_16k, transcriber):
    data, rate, channels = pcm_bytes(piano_16k)
    events, final, _ = asyncio.run(stream_whole(server.ws, split_randomly(data, seed=3), rate, channels))
    offline = transcriber.transcribe(piano_16k).notes
    streamed = notes_of(events)
    assert len(offline) > 0, "the model must emit notes on this audio for the comparison to mean anything"
    assert final["notes"] == len(streamed)
    assert score_notes(streamed, offline).note_f1 >= 0.99
    assert [m["seq"] for m in events] == list(range(1, len(events) + 1))


def test_streamed_44k_stereo_float_audio_is_resampled_like_the_file_decoder(server, piano_44k_stereo, transcriber):
    data, rate, channels = pcm_bytes(piano_44k_stereo, encoding="f32le")
    events, final, _ = asyncio.run(stream_whole(server.ws, split_randomly(data, seed=4, high=60000), rate, channels, "f32le"))
    offline = transcriber.transcribe(piano_44k_stereo).notes
    assert len(offline) > 0
    assert score_notes(notes_of(events), offline).note_f1 >= 0.99
    assert abs(final["duration"] - 3.0) < 0.01
