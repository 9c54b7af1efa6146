"""Weight averaging: the mean of checkpoints' weights, refused when the networks differ."""

import pytest
import torch

from notestream.cli import main
from notestream.model.averaging import average_models, average_state_dicts
from notestream.model.checkpoint import load_checkpoint, save_checkpoint
from tests.model.model_fixtures import small_model


def test_mean_of_weights_and_batch_norm_statistics():
    models = [small_model(seed=s) for s in (0, 1, 2)]
    states = [m.model.state_dict() for m in models]
    averaged = average_models(models).model.state_dict()
    for key, value in averaged.items():
        if value.is_floating_point():
            torch.testing.assert_close(value, sum(s[key] for s in states) / 3)
        else:
            assert torch.equal(value, states[0][key])
    assert any(k.endswith("running_var") for k in averaged)


def test_inputs_are_left_untouched():
    a, b = small_model(seed=0), small_model(seed=1)
    before = {k: v.clone() for k, v in a.model.state_dict().items()}
    average_models([a, b])
    assert all(torch.equal(before[k], v) for k, v in a.model.state_dict().items())


def test_averaging_one_model_is_that_model():
    model = small_model(seed=3)
    mel = torch.randn(1, 40, 229)
    with torch.no_grad():
        alone = model.model(mel, model.window)["onset"]
        torch.testing.assert_close(average_models([model]).model(mel, model.window)["onset"], alone)


def test_different_networks_are_refused():
    with pytest.raises(ValueError, match="different network"):
        average_models([small_model(), small_model(rnn_hidden=8)])
    with pytest.raises(ValueError, match="nothing to average"):
        average_state_dicts([])


def test_train_average_writes_the_mean_checkpoint_and_refuses_mismatched_networks(tmp_path, capsys):
    paths = []
    for seed in (0, 1):
        paths.append(tmp_path / f"m{seed}.pt")
        save_checkpoint(paths[-1], small_model(seed=seed))
    assert main(["train", "--average", *map(str, paths), "--out", str(tmp_path / "soup")]) == 0
    soup = load_checkpoint(tmp_path / "soup" / "averaged.pt", device="cpu")
    expected = average_models([load_checkpoint(p, device="cpu") for p in paths]).model.state_dict()
    assert all(torch.equal(v, expected[k]) for k, v in soup.model.state_dict().items())
    assert soup.metadata["averaged_from"] == [str(p) for p in paths]
    save_checkpoint(tmp_path / "narrow.pt", small_model(rnn_hidden=8))
    assert main(["train", "--average", str(paths[0]), str(tmp_path / "narrow.pt"), "--out", str(tmp_path / "x")]) == 2
    assert "different network" in capsys.readouterr().err


def test_notestream_average_is_the_same_as_train_average(tmp_path):
    paths = []
    for seed in (0, 1):
        paths.append(tmp_path / f"m{seed}.pt")
        save_checkpoint(paths[-1], small_model(seed=seed))
    assert main(["average", *map(str, paths), "--out", str(tmp_path / "a")]) == 0
    assert main(["train", "--average", *map(str, paths), "--out", str(tmp_path / "b")]) == 0
    a = load_checkpoint(tmp_path / "a" / "averaged.pt", device="cpu").model.state_dict()
    b = load_checkpoint(tmp_path / "b" / "averaged.pt", device="cpu").model.state_dict()
    assert all(torch.equal(v, b[k]) for k, v in a.items())
