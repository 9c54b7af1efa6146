"""Whole-file transcription in chunks gives exactly what one pass over the whole recording gives."""

from __future__ import annotations

import numpy as np
import torch

from notestream.model.checkpoint import load_checkpoint
from notestream.model.config import WindowConfig
from notestream.model.decoding import Activations, decode
from notestream.model.features import LogMelExtractor
from notestream.model.incremental import cnn_features
from notestream.model.transcriber import CHUNK_SECONDS, Transcriber
from notestream.model.views import combine_views
from tests.model.model_fixtures import small_model

LOADED = load_checkpoint(device="cpu", precision="float32")  # the shipped model, computing as the one-pass reference does


def one_pass_notes(audio: np.ndarray):
    """The whole recording through the network at once, each of the checkpoint's views, then combined and decoded."""
    views = []
    for semitones in LOADED.views.semitones:
        with torch.inference_mode():
            mel = LogMelExtractor(LOADED.features, semitones)(torch.from_numpy(audio))
            out = {k: torch.sigmoid(v[0]).numpy() for k, v in LOADED.model(mel[None], LOADED.window).items()}
        views.append(Activations(out["onset"], out["frame"], out["offset"], out["velocity"], out["pedal"]))
    return decode(combine_views(views, LOADED.views.semitones), LOADED.decoder, LOADED.features.frame_rate)


def test_chunked_transcription_of_a_long_recording_equals_one_pass() -> None:
    rate = LOADED.features.sample_rate
    seconds = 2 * CHUNK_SECONDS + 3.3  # crosses two chunk boundaries, ends mid-chunk and mid-hop
    t = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(3)
    audio = (0.3 * np.sin(2 * np.pi * 261.6 * t) * (np.sin(2 * np.pi * 0.7 * t) > 0)
             + 0.02 * rng.standard_normal(t.size)).astype(np.float32)
    result = Transcriber(LOADED).transcribe(audio)
    notes, pedals = one_pass_notes(audio)
    assert result.notes == notes and result.pedals == pedals
    assert result.duration == audio.size / rate


def test_the_fast_cpu_front_end_equals_the_network_cnn_and_follows_its_weights() -> None:
    cnn = small_model(WindowConfig(4, 6), seed=5).model.cnn
    with torch.no_grad():  # batch norm that does something: folding it must be right
        for bn in (cnn.stack[1], cnn.stack[5], cnn.stack[8]):
            bn.running_mean.uniform_(-0.5, 0.5), bn.running_var.uniform_(0.5, 2.0), bn.weight.uniform_(0.5, 1.5)
    mel = torch.randn(2, 131, LOADED.features.n_mels)
    with torch.inference_mode():
        torch.testing.assert_close(cnn_features(cnn, mel), cnn(mel), atol=2e-5, rtol=1e-4)
    with torch.no_grad():
        cnn.stack[0].weight.mul_(2)  # as a training step would: the folded copy must follow
    with torch.inference_mode():
        torch.testing.assert_close(cnn_features(cnn, mel), cnn(mel), atol=2e-5, rtol=1e-4)


def test_a_clip_shorter_than_one_frame_hop_transcribes_to_its_duration() -> None:
    result = Transcriber(LOADED).transcribe(np.zeros(100, dtype=np.float32))
    assert result.duration == 100 / LOADED.features.sample_rate
    assert all(0 <= n.onset < n.offset for n in result.notes)


def test_warming_up_leaves_no_trace_in_later_transcriptions(piano_audio) -> None:
    transcriber = Transcriber(LOADED)
    before = transcriber.transcribe(piano_audio)
    transcriber.warm_up(1.0)
    after = transcriber.transcribe(piano_audio)
    assert before.notes and after.notes == before.notes and after.pedals == before.pedals
