"""Checkpoints: self-describing round trip and clear errors for foreign or mismatched files."""

import pytest
import torch

from notestream.model.checkpoint import SHIPPED_CHECKPOINT, CheckpointError, load_checkpoint, save_checkpoint
from notestream.model.config import DecoderConfig
from notestream.model.features import FeatureConfig
from notestream.model.gcn import harmonic_adjacency
from tests.model.model_fixtures import small_model


def logits(loaded, mel: torch.Tensor) -> dict[str, torch.Tensor]:
    with torch.no_grad():
        return loaded.model(mel, loaded.window)


def test_round_trip_keeps_configs_weights_and_metadata(tmp_path):
    loaded = small_model()
    save_checkpoint(tmp_path / "m.pt", loaded)
    again = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert again.model.config == loaded.model.config
    assert again.features == loaded.features and again.window == loaded.window and again.decoder == loaded.decoder
    assert again.metadata == {"name": "test"}
    for (k, a), (_, b) in zip(loaded.model.state_dict().items(), again.model.state_dict().items(), strict=True):
        assert torch.equal(a, b), k
    assert not again.model.training


def save_edited(path, loaded, edit) -> None:
    """Save `loaded`, then rewrite the file's payload with `edit` (an older or foreign checkpoint)."""
    save_checkpoint(path, loaded)
    payload = torch.load(path, weights_only=True)
    edit(payload)
    torch.save(payload, path)


def test_a_checkpoint_from_before_the_graph_options_loads_and_gives_the_same_outputs(tmp_path):
    loaded = small_model()

    def drop_graph_options(payload):
        for name in ("adjacency_reweight", "label_graph", "gcn_residual"):
            del payload["model_config"][name]

    save_edited(tmp_path / "m.pt", loaded, drop_graph_options)
    again = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert (again.model.config.label_graph, again.model.config.gcn_residual) == ("cooccurrence", False)
    mel = torch.randn(1, 30, 229)
    for name, value in logits(loaded, mel).items():
        assert torch.equal(value, logits(again, mel)[name]), name


def test_a_checkpoint_from_before_the_offset_threshold_keeps_ending_notes_on_offsets_at_its_onset_threshold(tmp_path):
    save_edited(tmp_path / "m.pt", small_model(), lambda payload: payload["decoder"].pop("offset_threshold"))
    decoder = load_checkpoint(tmp_path / "m.pt", device="cpu").decoder
    assert decoder.offset_threshold == decoder.onset_threshold == 0.3


def test_a_decoder_without_offset_threshold_round_trips(tmp_path):
    loaded = small_model()
    loaded.decoder = DecoderConfig(0.4, 0.5, 0.5, None)
    save_checkpoint(tmp_path / "m.pt", loaded)
    assert load_checkpoint(tmp_path / "m.pt", device="cpu").decoder == DecoderConfig(0.4, 0.5, 0.5, None)


def test_a_residual_harmonic_model_round_trips_with_its_graph_and_free_classifiers(tmp_path):
    loaded = small_model(adjacency=harmonic_adjacency(), label_graph="harmonic", gcn_residual=True)
    with torch.no_grad():
        loaded.model.head.layers[-1].weight.normal_()  # a trained graph part, not the zero start
    save_checkpoint(tmp_path / "m.pt", loaded)
    again = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert again.model.config == loaded.model.config
    assert torch.equal(again.model.head.adjacency, torch.from_numpy(harmonic_adjacency()))
    assert torch.equal(again.model.head.free, loaded.model.head.free)
    mel = torch.randn(1, 30, 229)
    for name, value in logits(loaded, mel).items():
        assert torch.equal(value, logits(again, mel)[name]), name


def test_other_format_version_is_refused_with_a_message(tmp_path):
    save_edited(tmp_path / "m.pt", small_model(), lambda payload: payload.update(format_version=99))
    with pytest.raises(CheckpointError, match="format 99"):
        load_checkpoint(tmp_path / "m.pt")


def test_other_feature_parameters_are_refused_when_expected_ones_are_given(tmp_path):
    save_checkpoint(tmp_path / "m.pt", small_model())
    with pytest.raises(CheckpointError, match="trained with features"):
        load_checkpoint(tmp_path / "m.pt", expect_features=FeatureConfig(hop_length=160))


def test_garbage_and_missing_files_give_checkpoint_errors(tmp_path):
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="bad.pt"):
        load_checkpoint(tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_weights_that_do_not_fit_the_config_are_refused(tmp_path):
    save_checkpoint(tmp_path / "m.pt", small_model())
    payload = torch.load(tmp_path / "m.pt", weights_only=True)
    payload["model_config"]["rnn_hidden"] = 17
    torch.save(payload, tmp_path / "m.pt")
    with pytest.raises(CheckpointError, match="do not fit"):
        load_checkpoint(tmp_path / "m.pt")


def test_the_shipped_checkpoint_loads_and_is_small():
    loaded = load_checkpoint(device="cpu")
    assert SHIPPED_CHECKPOINT.stat().st_size <= 25 * 2**20
    assert loaded.features.sample_rate == 16000
