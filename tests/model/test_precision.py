"""The CNN's compute type: bfloat16 where the CPU has bf16 units, float32 otherwise; one path either way."""

import numpy as np
import pytest
import torch

from notestream.model.checkpoint import CheckpointError, load_checkpoint, resolve_precision
from notestream.model.config import WindowConfig
from notestream.model.incremental import cnn_features, cpu_backward_blocks
from notestream.model.transcriber import Transcriber
from tests.model.model_fixtures import small_model


def test_precision_names_resolve_and_unknown_ones_are_refused() -> None:
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert resolve_precision("float32", cpu) == torch.float32
    assert resolve_precision("bfloat16", cpu) == torch.bfloat16
    assert resolve_precision("auto", cuda) == torch.float32  # bfloat16 on CUDA only when asked
    assert resolve_precision("auto", cpu) in (torch.float32, torch.bfloat16)
    with pytest.raises(CheckpointError, match="unknown precision 'half'"):
        resolve_precision("half", cpu)


def test_the_loaded_model_carries_the_asked_precision() -> None:
    assert load_checkpoint(device="cpu", precision="bfloat16").compute_dtype == torch.bfloat16
    transcriber = Transcriber.from_checkpoint(device="cpu", precision="float32")
    assert transcriber.loaded.compute_dtype == torch.float32
    assert transcriber.describe()["compute_precision"] == "float32"


def test_the_bfloat16_cnn_stays_within_bfloat16_rounding_of_the_float32_one() -> None:
    cnn = small_model(WindowConfig(4, 6), seed=2).model.cnn
    mel = torch.randn(2, 97, 229)
    with torch.inference_mode():
        exact, rounded = cnn(mel), cnn_features(cnn, mel, torch.bfloat16)
    assert rounded.dtype == torch.float32 and rounded.shape == exact.shape
    scale = exact.abs().max()
    assert (rounded - exact).abs().max() <= 0.03 * scale  # bf16 keeps 8 significant bits
    assert (rounded - exact).abs().mean() <= 0.003 * scale


def test_a_bfloat16_stream_fed_in_small_pieces_gives_what_the_whole_recording_gives(piano_audio) -> None:
    transcriber = Transcriber.from_checkpoint(device="cpu", precision="bfloat16")
    whole = transcriber.transcribe(piano_audio)
    stream = transcriber.stream()
    for start in range(0, piano_audio.size, 1234):
        stream.push(piano_audio[start: start + 1234])
    stream.finish()
    streamed = stream.result()
    assert whole.notes, "the piano clip should give notes"
    assert streamed.notes == whole.notes and streamed.pedals == whole.pedals
    assert np.isclose(streamed.duration, whole.duration)


def test_the_bfloat16_backward_projection_stays_close_to_the_float32_recurrence() -> None:
    rnn, window = small_model(WindowConfig(4, 6), seed=3).model.rnn, WindowConfig(4, 6)
    inputs = [torch.randn(1, 40, 32)]
    with torch.inference_mode():
        exact = cpu_backward_blocks(rnn, inputs, [10], window)
        rounded = cpu_backward_blocks(rnn, inputs, [10], window, torch.bfloat16)
    assert rounded.dtype == torch.float32
    assert (rounded - exact).abs().max() <= 0.05 and (rounded - exact).abs().mean() <= 0.005  # hidden states in [-1, 1]
