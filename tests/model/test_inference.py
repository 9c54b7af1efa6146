"""Streaming inference equals one whole-sequence pass, for any chunking of the audio."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from notestream.audio import decode_audio
from notestream.model.config import WindowConfig
from notestream.model.decoding import Activations, NoteDecoder, decode
from notestream.model.features import LogMelExtractor
from notestream.model.incremental import (
    IncrementalNetwork,
    advance_networks,
    cpu_backward_blocks,
    padded_size,
)
from notestream.model.inference import TranscriptionStream, advance_streams, finish_streams
from notestream.model.network import block_inputs
from notestream.model.transcriber import Transcriber
from tests.model.model_fixtures import small_model

LOADED = small_model(WindowConfig(4, 6))


def whole_pass(audio: np.ndarray) -> Activations:
    mel = LogMelExtractor(LOADED.features)(torch.from_numpy(audio))
    with torch.no_grad():
        out = {k: torch.sigmoid(v[0]).numpy() for k, v in LOADED.model(mel[None], LOADED.window).items()}
    return Activations(out["onset"], out["frame"], out["offset"], out["velocity"], out["pedal"])


def recorded_activations(stream: TranscriptionStream) -> list[Activations]:
    """Every activation chunk the stream's network hands its decoder, as it is handed."""
    seen, push = [], stream._decoder.push

    def record(acts: Activations):
        seen.append(acts)
        return push(acts)

    stream._decoder.push = record
    return seen


def assert_close_activations(a: Activations, b: Activations) -> None:
    assert len(a) == len(b)
    for name in ("onset", "frame", "offset", "velocity", "pedal"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), atol=1e-5)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.integers(1, 400), min_size=1, max_size=30), st.integers(0, 2**31 - 1))
def test_incremental_network_matches_whole_pass_for_any_mel_chunking(sizes, seed):
    rng = np.random.default_rng(seed)
    audio = rng.standard_normal(16000).astype(np.float32) * 0.1
    mel = LogMelExtractor(LOADED.features)(torch.from_numpy(audio))
    net = IncrementalNetwork(LOADED, LOADED.window)
    parts, start = [], 0
    for size in sizes * 10:
        if start >= mel.shape[0]:
            break
        parts.append(net.push(mel[start:start + size // 8 + 1]))
        start += size // 8 + 1
    parts.append(net.push(mel[start:], final=True))
    assert_close_activations(Activations.concat(parts), whole_pass(audio))


def test_stream_events_and_notes_equal_offline_decoding(piano_audio):
    """The chunked network equals one whole pass up to float rounding (the same sums in another order, which
    can flip a near-tie between two saturated frames); the incremental decoder equals the offline decoder
    on the same activations exactly."""
    stream = TranscriptionStream(LOADED)
    seen = recorded_activations(stream)
    events = []
    for chunk in np.array_split(piano_audio, 17):
        events += stream.push(chunk)
    events += stream.finish()
    result = stream.result()
    streamed = Activations.concat(seen)
    assert_close_activations(streamed, whole_pass(piano_audio))
    notes, pedals = decode(streamed, LOADED.decoder, LOADED.features.frame_rate)
    assert result.notes == notes and result.pedals == pedals
    assert len(notes) > 0
    assert sum(e.kind == "note_on" for e in events) == len(notes)
    starts = [e.time for e in events if e.kind not in ("note_off", "pedal_on")]
    assert starts == sorted(starts)
    lag = LOADED.decoder.backdate_frames / LOADED.features.frame_rate  # how far back an end may be placed
    assert all(e.time >= max(x.time for x in events[:i + 1]) - lag - 1e-9 for i, e in enumerate(events))


def test_transcriber_gives_the_same_notes_for_arrays_and_files(piano_wav):
    transcriber = Transcriber(LOADED)
    audio = decode_audio(piano_wav, 16000)
    from_array = transcriber.transcribe(audio)
    from_file = transcriber.transcribe(piano_wav)
    assert from_array.notes == from_file.notes
    assert abs(from_array.duration - len(audio) / 16000) < 1e-6
    assert from_array.metadata["window"] == {"hop": 4, "lookahead": 6}


def test_pushing_after_finish_is_an_error():
    stream = TranscriptionStream(LOADED)
    stream.finish()
    try:
        stream.push(np.zeros(10, dtype=np.float32))
    except RuntimeError as exc:
        assert "finished" in str(exc)
    else:
        raise AssertionError("push after finish must fail")


@settings(max_examples=10, deadline=None)
@given(st.lists(st.lists(st.integers(0, 60), min_size=1, max_size=12), min_size=2, max_size=4), st.integers(0, 2**31 - 1))
def test_streams_batched_together_each_match_their_own_whole_pass(chunkings, seed):
    rng = np.random.default_rng(seed)
    audios = [rng.standard_normal(int(rng.integers(2000, 12000))).astype(np.float32) * 0.1 for _ in chunkings]
    mels = [LogMelExtractor(LOADED.features)(torch.from_numpy(a)) for a in audios]
    nets = [IncrementalNetwork(LOADED, LOADED.window) for _ in audios]
    parts: list[list[Activations]] = [[] for _ in audios]
    starts = [0] * len(audios)
    for step in range(max(map(len, chunkings)) * 3):
        sizes = [c[step % len(c)] for c in chunkings]  # some streams get no frames in a round
        chunks = [m[s: s + n] for m, s, n in zip(mels, starts, sizes, strict=True)]
        for i, acts in enumerate(advance_networks(nets, chunks, [False] * len(nets))):
            parts[i].append(acts)
        starts = [s + n for s, n in zip(starts, sizes, strict=True)]
    for i, acts in enumerate(advance_networks(nets, [m[s:] for m, s in zip(mels, starts, strict=True)], [True] * len(nets))):
        parts[i].append(acts)
    for audio, part in zip(audios, parts, strict=True):
        assert_close_activations(Activations.concat(part), whole_pass(audio))


def test_push_streams_gives_each_stream_what_its_own_push_gives(piano_audio):
    """Batched with others, each stream's network gives what it gives alone (up to float rounding: a batch
    sums in another order) and its decoder turns that into its own events."""
    quiet = np.zeros_like(piano_audio)
    alone = [TranscriptionStream(LOADED) for _ in range(3)]
    together = [TranscriptionStream(LOADED) for _ in range(3)]
    seen_alone, seen_together = [recorded_activations(s) for s in alone], [recorded_activations(s) for s in together]
    got, expected = [[] for _ in together], [[] for _ in alone]
    for chunk, silent in zip(np.array_split(piano_audio, 9), np.array_split(quiet, 9), strict=True):
        chunks = [chunk, silent, chunk[: len(chunk) // 2]]
        for i, events in enumerate(advance_streams(together, chunks)):
            got[i] += events
        for i, (stream, audio) in enumerate(zip(alone, chunks, strict=True)):
            expected[i] += stream.push(audio)
    for a, b in zip(seen_alone, seen_together, strict=True):
        assert_close_activations(Activations.concat(a), Activations.concat(b))
    assert len(got[0]) > 0 and all(len(e) > 0 for e in expected)
    for events, seen in zip(got, seen_together, strict=True):
        decoder = NoteDecoder(LOADED.decoder, LOADED.features.frame_rate)
        assert events == [e for acts in seen for e in decoder.push(acts)]


def test_streams_finished_together_each_end_as_their_own_finish_ends_them(piano_audio):
    """A server ending many sessions in one round flushes them in one batched pass: each stream's last activations
    are what its own `finish` computes (up to float rounding) and its closing events are the same."""
    alone = [TranscriptionStream(LOADED) for _ in range(3)]
    together = [TranscriptionStream(LOADED) for _ in range(3)]
    for i, (a, b) in enumerate(zip(alone, together, strict=True)):
        cut = len(piano_audio) * (i + 1) // 4
        a.push(piano_audio[:cut]), b.push(piano_audio[:cut])
    seen_alone, seen_together = [recorded_activations(s) for s in alone], [recorded_activations(s) for s in together]
    ended = finish_streams(together)
    for stream, events, last_alone, last_together in zip(alone, ended, seen_alone, seen_together, strict=True):
        assert stream.finish() == events and any(e.kind == "note_off" for e in events)
        assert_close_activations(last_alone[0], last_together[0])
    assert all(stream.finished for stream in together)


def test_streams_with_different_windows_cannot_share_a_batch():
    nets = [IncrementalNetwork(LOADED, WindowConfig(4, 6)), IncrementalNetwork(LOADED, WindowConfig(4, 2))]
    mel = torch.zeros(40, LOADED.features.n_mels)
    with pytest.raises(ValueError, match="window"):
        advance_networks(nets, [mel, mel], [False, False])


def test_the_cpu_backward_blocks_equal_the_networks_backward_gru_on_every_kept_frame():
    rnn, window = LOADED.model.rnn, WindowConfig(4, 6)
    torch.manual_seed(4)
    inputs, n_blocks = [torch.randn(1, 41, 32), torch.randn(1, 9, 32), torch.randn(1, 16, 32)], [9, 3, 3]
    with torch.inference_mode():
        blocks, lengths = zip(*(block_inputs(x, n, window) for x, n in zip(inputs, n_blocks, strict=True)), strict=True)
        expected = rnn.run_blocks(torch.cat(blocks), torch.cat(lengths), window.hop).split(n_blocks)
        fast = cpu_backward_blocks(rnn, inputs, n_blocks, window).split(n_blocks)
    for x, want, got in zip(inputs, expected, fast, strict=True):
        frames = x.shape[1]  # frames past a stream's end are cut off by the caller
        want, got = want.reshape(1, -1, want.shape[-1])[:, :frames], got.reshape(1, -1, got.shape[-1])[:, :frames]
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


def test_live_rounds_pad_to_a_few_sizes_wasting_at_most_a_third():
    sizes = [padded_size(n) for n in range(1, 200)]
    assert all(n <= size <= 1.5 * n for n, size in zip(range(1, 200), sizes, strict=True))  # waste <= size / 3
    assert sorted(set(sizes)) == [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]


def test_a_stream_without_a_result_gives_the_same_events_and_keeps_no_notes(piano_audio):
    """A live session stores its events elsewhere: its stream need not keep a list of notes growing for hours."""
    kept, lean = TranscriptionStream(LOADED), TranscriptionStream(LOADED, keep_result=False)
    assert lean.push(piano_audio) + lean.finish() == kept.push(piano_audio) + kept.finish()
    assert kept.result().notes and not lean._decoder.notes and not lean._decoder.pedals
    with pytest.raises(RuntimeError, match="keep_result=False"):
        lean.result()
