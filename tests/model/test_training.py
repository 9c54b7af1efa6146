"""`notestream train` end to end on a tiny corpus: logs, curves, checkpoints, resume."""

import argparse
import csv
import json
import shutil
from dataclasses import asdict

import numpy as np
import pytest
import torch

from notestream.cli import UserError, main
from notestream.commands import train as train_command
from notestream.commands.train import build_config
from notestream.model.checkpoint import cpu_has_native_bf16, load_checkpoint
from notestream.model.gcn import harmonic_adjacency
from notestream.model.training import (
    NON_FINITE_LIMIT,
    NonFiniteLoss,
    TrainConfig,
    Trainer,
    lr_at,
    train_config_from_dict,
)
from tests.model.data.tiny_corpus import write_tiny_corpus


def test_training_writes_logs_and_a_loadable_best_checkpoint_then_resumes(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    (data / "train" / "seg2.npz").rename(data / "train" / "music21__tiny_piece__h0.npz")
    out = tmp_path / "run"
    common = ["train", "--data-dir", str(data), "--out", str(out), "--batch-size", "2", "--crop-frames", "40",
              "--validate-every", "2", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--steps", "2"]) == 0
    best = load_checkpoint(out / "best.pt", device="cpu")
    assert best.metadata["steps"] == 2 and "train_config" in best.metadata
    assert best.metadata["train_config"]["augment"]["reverb"] is True
    assert best.metadata["train_segments_by_source"] == {"performance": 2, "music21": 1}
    assert (out / "curves.png").stat().st_size > 1000
    assert main([*common, "--steps", "3", "--resume"]) == 0
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3]
    assert rows[1]["val_note_f1"] != "" and float(rows[2]["total"]) > 0


def test_the_linear_ablation_and_switched_off_augmentations_are_recorded(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
                 "--validate-every", "1", "--validation-segments", "1", "--label-head", "linear",
                 "--no-augment", "reverb", "--no-augment", "noise", "--device", "cpu"]) == 0
    meta = load_checkpoint(out / "best.pt").metadata["train_config"]
    assert meta["model"]["label_head"] == "linear"
    assert meta["augment"]["reverb"] is False and meta["augment"]["noise"] is False and meta["augment"]["gain"] is True
    assert meta["augment"]["band_eq"] is True


def _train_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    train_command.register(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


def test_rooms_are_off_unless_asked_for_and_a_share_outside_0_to_1_is_refused():
    assert build_config(_train_args()).augment.rooms is False
    augment = build_config(_train_args("--room-share", "0.3")).augment
    assert augment.rooms is True and augment.room_share == 0.3 and augment.reverb is True
    with pytest.raises(SystemExit):
        _train_args("--room-share", "1.5")


def test_train_splits_default_to_train_and_survive_the_saved_config():
    assert build_config(_train_args()).train_splits == ("train",)
    config = build_config(_train_args("--train-splits", "train, train-salamander"))
    assert config.train_splits == ("train", "train-salamander")
    assert train_config_from_dict(json.loads(json.dumps(asdict(config)))).train_splits == ("train", "train-salamander")


def test_focal_gamma_reaches_the_loss_and_survives_the_saved_config():
    assert build_config(_train_args()).loss.focal_gamma == 2.0
    config = build_config(_train_args("--focal-gamma", "1"))
    assert config.loss.focal_gamma == 1.0
    assert train_config_from_dict(json.loads(json.dumps(asdict(config)))).loss.focal_gamma == 1.0
    with pytest.raises(UserError):
        build_config(_train_args("--focal-gamma", "-0.5"))


def test_bass_onset_weight_reaches_the_loss_and_a_config_saved_before_it_trains_without_it():
    assert build_config(_train_args()).loss.bass_onset_weight == 1.0
    config = build_config(_train_args("--bass-onset-weight", "3"))
    saved = json.loads(json.dumps(asdict(config)))
    assert train_config_from_dict(saved).loss.bass_onset_weight == 3.0
    del saved["loss"]["bass_onset_weight"]
    assert train_config_from_dict(saved).loss.bass_onset_weight == 1.0
    with pytest.raises(UserError):
        build_config(_train_args("--bass-onset-weight", "0"))


def test_bass_range_and_soft_weight_reach_the_loss_and_older_configs_load_without_them():
    config = build_config(_train_args("--bass-top-pitch", "47", "--soft-onset-weight", "2"))
    saved = json.loads(json.dumps(asdict(config)))
    loss = train_config_from_dict(saved).loss
    assert (loss.bass_top_pitch, loss.soft_onset_weight) == (47, 2.0)
    del saved["loss"]["bass_top_pitch"], saved["loss"]["soft_onset_weight"]
    loss = train_config_from_dict(saved).loss
    assert (loss.bass_top_pitch, loss.soft_onset_weight) == (35, 1.0)
    for bad in (("--bass-top-pitch", "20"), ("--bass-top-pitch", "109"), ("--soft-onset-weight", "0")):
        with pytest.raises(UserError):
            build_config(_train_args(*bad))


def test_a_config_saved_before_band_eq_existed_resumes_without_it():
    current = json.loads(json.dumps(asdict(TrainConfig())))
    assert train_config_from_dict(current).augment.band_eq is True
    del current["augment"]["band_eq"]
    assert train_config_from_dict(current).augment.band_eq is False


def test_data_stats_writes_tables_plots_and_the_label_graph(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    assert main(["data", "stats", "--data-dir", str(data), "--out", str(tmp_path / "stats")]) == 0
    out = tmp_path / "stats"
    for name in ("summary.csv", "train_keys.csv", "cooccurrence.csv", "adjacency.csv", "label_graph.png", "train_histograms.png"):
        assert (out / name).stat().st_size > 0, name
    summary = {r["split"]: r for r in csv.DictReader((out / "summary.csv").open())}
    assert summary["train"]["notes"] == "48" and summary["train"]["segments"] == "3"
    assert "train: 3 segments, 48 notes" in capsys.readouterr().out


def test_a_new_run_can_start_from_a_shipped_checkpoints_weights(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "first")]) == 0
    first = load_checkpoint(tmp_path / "first" / "best.pt").model.state_dict()
    assert main([*common, "--out", str(tmp_path / "second"), "--init-from", str(tmp_path / "first" / "best.pt"), "--lr", "0"]) == 0
    second = load_checkpoint(tmp_path / "second" / "best.pt").model.state_dict()
    assert all((first[k] == second[k]).all() for k in first if "running" not in k and "num_batches" not in k)


def test_init_from_keeps_this_runs_label_graph(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "first"), "--tau", "0.99"]) == 0
    assert main([*common, "--out", str(tmp_path / "second"), "--tau", "0.01",
                 "--init-from", str(tmp_path / "first" / "best.pt")]) == 0
    first = load_checkpoint(tmp_path / "first" / "best.pt").model.state_dict()
    second = load_checkpoint(tmp_path / "second" / "best.pt").model.state_dict()
    key = next(k for k in first if k.endswith("adjacency"))
    assert (second[key] > 0).sum() > (first[key] > 0).sum()


def test_keep_graph_fine_tunes_on_the_init_checkpoints_own_label_graph(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "first"), "--tau", "0.99"]) == 0
    assert main([*common, "--out", str(tmp_path / "second"), "--tau", "0.01", "--keep-graph",
                 "--init-from", str(tmp_path / "first" / "best.pt")]) == 0
    first = load_checkpoint(tmp_path / "first" / "best.pt").model.state_dict()
    second = load_checkpoint(tmp_path / "second" / "best.pt").model.state_dict()
    key = next(k for k in first if k.endswith("adjacency"))
    assert torch.equal(first[key], second[key])


def test_calibrate_can_re_window_a_checkpoint_and_tune_it_for_the_new_look_ahead(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]) == 0
    before = load_checkpoint(out / "best.pt", device="cpu")
    assert before.window.lookahead == 16
    assert main(["calibrate", str(out / "best.pt"), "--data-dir", str(data), "--lookahead", "8",
                 "--validation-segments", "1"]) == 0
    after = load_checkpoint(out / "best.pt", device="cpu")
    assert (after.window.hop, after.window.lookahead) == (before.window.hop, 8)
    assert after.metadata["decoder_calibration"]["window"] == {"hop": before.window.hop, "lookahead": 8}
    assert "look-ahead 8" in capsys.readouterr().out


def test_calibrate_remakes_the_decoder_of_another_view_set_and_leaves_the_checkpoints_own(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]) == 0
    before = load_checkpoint(out / "best.pt", device="cpu")
    assert main(["calibrate", str(out / "best.pt"), "--data-dir", str(data), "--validation-segments", "1",
                 "--alternative-views=-1,0,1"]) == 0
    after = load_checkpoint(out / "best.pt", device="cpu")
    assert (after.views, after.decoder) == (before.views, before.decoder)
    assert (-1, 0, 1) in after.alternatives and "-1,0,1" in after.metadata["view_calibration"]
    own = ",".join(map(str, before.views.semitones))
    assert main(["calibrate", str(out / "best.pt"), "--data-dir", str(data), "--validation-segments", "1",
                 f"--alternative-views={own}"]) == 2
    assert "the checkpoint's own" in capsys.readouterr().err


def test_calibration_on_several_splits_takes_the_segment_limit_from_each(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    shutil.copytree(data / "benchmark", data / "validation-other-piano")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]) == 0
    assert main(["train", "--data-dir", str(data), "--calibrate", str(out / "best.pt"), "--validation-segments", "1",
                 "--calibration-split", "validation,validation-other-piano"]) == 0
    calibration = load_checkpoint(out / "best.pt", device="cpu").metadata["decoder_calibration"]
    assert (calibration["split"], calibration["validation_segments"]) == ("validation,validation-other-piano", 2)
    assert "validation,validation-other-piano note F1" in capsys.readouterr().out


def test_a_residual_harmonic_run_records_its_graph_resumes_and_calibrates(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    common = ["train", "--data-dir", str(data), "--out", str(out), "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--steps", "1", "--label-graph", "harmonic", "--gcn-residual"]) == 0
    assert main([*common, "--steps", "2", "--resume"]) == 0  # the graph options come back from config.json
    best = load_checkpoint(out / "best.pt", device="cpu")
    assert (best.model.config.label_graph, best.model.config.gcn_residual) == ("harmonic", True)
    assert best.metadata["train_config"]["model"]["label_graph"] == "harmonic"
    assert torch.equal(best.model.head.adjacency, torch.from_numpy(harmonic_adjacency()))
    last = torch.load(out / "last.pt", weights_only=False)
    assert last["step"] == 2 and "head.free" in last["model"]
    assert main(["train", "--data-dir", str(data), "--calibrate", str(out / "best.pt"), "--validation-segments", "1"]) == 0
    assert load_checkpoint(out / "best.pt", device="cpu").model.config.label_graph == "harmonic"


def test_init_from_a_checkpoint_without_free_classifiers_into_a_residual_run_is_refused(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "first")]) == 0
    assert main([*common, "--out", str(tmp_path / "second"), "--gcn-residual",
                 "--init-from", str(tmp_path / "first" / "best.pt")]) == 2
    err = capsys.readouterr().err
    assert "does not fit this model" in err and "head.free" in err


def test_graph_options_on_a_linear_head_are_refused(tmp_path, capsys):
    argv = ["train", "--data-dir", str(tmp_path), "--out", str(tmp_path / "run"), "--label-head", "linear"]
    assert main([*argv, "--gcn-residual"]) == 2
    assert main([*argv, "--label-graph", "harmonic"]) == 2
    assert "a --label-head linear run has none" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_a_time_budget_ends_the_run_with_a_validation_and_decays_the_learning_rate_over_it(tmp_path):
    config = TrainConfig(steps=1000, warmup_steps=0, minutes=1.0)
    assert lr_at(10, config, seconds=0.0) > 0.99 * config.learning_rate
    assert abs(lr_at(10, config, seconds=60.0) - 0.05 * config.learning_rate) < 1e-9
    assert type(lr_at(10, config, seconds=30.0)) is float  # a numpy scalar in the optimiser's state fails weights_only loads
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1000", "--minutes", "0.001",
                 "--batch-size", "1", "--crop-frames", "32", "--validate-every", "500", "--validation-segments", "1",
                 "--data-workers", "1", "--device", "cpu"]) == 0
    rows = list(csv.DictReader((out / "log.csv").open()))
    assert len(rows) < 1000 and rows[-1]["val_note_f1"] != ""
    assert load_checkpoint(out / "best.pt").metadata["train_config"]["minutes"] == 0.001


def test_a_run_can_take_its_label_graph_from_another_runs_counts(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    counts = np.eye(88, dtype=np.int64) * 10
    counts[40, 43] = counts[43, 40] = 10  # two keys that always sound together
    np.save(tmp_path / "counts.npy", counts)
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu",
                 "--cooccurrence", str(tmp_path / "counts.npy")]) == 0
    assert (np.load(out / "cooccurrence.npy") == counts).all()
    state = load_checkpoint(out / "best.pt").model.state_dict()
    adjacency = state[next(k for k in state if k.endswith("adjacency"))]
    assert adjacency[40, 43] > 0 and adjacency[40, 41] == 0


def test_the_network_size_is_chosen_on_the_command_line_and_travels_in_the_checkpoint(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    common = ["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
              "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--cnn-channels", "8,8,16", "--cnn-fc", "64", "--rnn-hidden", "32"]) == 0
    loaded = load_checkpoint(out / "best.pt")
    assert loaded.model.config.cnn_channels == (8, 8, 16) and loaded.model.config.rnn_hidden == 32
    assert loaded.model.rnn.forward_rnn.hidden_size == 32
    with pytest.raises(SystemExit):
        main([*common, "--cnn-channels", "8,8"])
    assert "three positive channel counts" in capsys.readouterr().err


def test_a_shorter_window_future_travels_in_the_checkpoint_and_a_fine_tune_can_start_from_the_hann_weights(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]
    assert main([*common, "--out", str(tmp_path / "hann")]) == 0
    assert main([*common, "--out", str(tmp_path / "short"), "--window-future", "256",
                 "--init-from", str(tmp_path / "hann" / "best.pt")]) == 0
    assert load_checkpoint(tmp_path / "hann" / "best.pt").features.future_samples is None
    assert load_checkpoint(tmp_path / "short" / "best.pt").features.future_samples == 256
    with pytest.raises(UserError, match="--window-future"):
        build_config(_train_args("--window-future", "2000"))


def test_a_run_whose_loss_stays_nan_stops_with_a_clear_error(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    config = TrainConfig(data_dir=str(data), out_dir=str(tmp_path / "run"), steps=100, batch_size=1, crop_frames=32,
                         validate_every=1000, validation_segments=1, device="cpu")
    trainer = Trainer(config)

    def nan_step() -> dict[str, float]:
        trainer.step += 1
        return {"total": float("nan")}

    trainer.train_step = nan_step
    with pytest.raises(NonFiniteLoss, match=f"NaN or infinite for {NON_FINITE_LIMIT} steps, up to step {NON_FINITE_LIMIT}"):
        trainer.fit()


def test_a_run_with_a_wider_network_starts_from_a_narrower_checkpoints_widened_weights(tmp_path, capsys):
    data = write_tiny_corpus(tmp_path / "data")
    common = ["train", "--data-dir", str(data), "--steps", "1", "--batch-size", "1", "--crop-frames", "32",
              "--validate-every", "1", "--validation-segments", "1", "--device", "cpu", "--cnn-channels", "4,4,8"]
    assert main([*common, "--out", str(tmp_path / "narrow"), "--cnn-fc", "32", "--rnn-hidden", "16"]) == 0
    narrow = load_checkpoint(tmp_path / "narrow" / "best.pt")
    assert main([*common, "--out", str(tmp_path / "wide"), "--cnn-fc", "64", "--rnn-hidden", "32", "--lr", "0",
                 "--init-from", str(tmp_path / "narrow" / "best.pt")]) == 0
    wide = load_checkpoint(tmp_path / "wide" / "best.pt")
    assert wide.model.rnn.backward_rnn.hidden_size == 32
    # the one step at LR 0 moved only the batch-norm statistics (the CNN, which is not widened)
    narrow.model.cnn.load_state_dict(wide.model.cnn.stack.state_dict(prefix="stack."), strict=False)
    mel = torch.randn(1, 40, 229)
    with torch.no_grad():
        torch.testing.assert_close(wide.model(mel, narrow.window)["onset"], narrow.model(mel, narrow.window)["onset"],
                                   atol=1e-4, rtol=1e-4)
    assert main([*common, "--out", str(tmp_path / "odd"), "--cnn-fc", "48", "--rnn-hidden", "16",
                 "--init-from", str(tmp_path / "narrow" / "best.pt")]) == 2
    assert "does not fit this model" in capsys.readouterr().err
    assert main([*common, "--out", str(tmp_path / "wide_cnn"), "--cnn-fc", "32", "--rnn-hidden", "16",
                 "--cnn-channels", "8,4,16", "--init-from", str(tmp_path / "narrow" / "best.pt")]) == 0
    assert load_checkpoint(tmp_path / "wide_cnn" / "best.pt").model.cnn.stack[7].out_channels == 16


def test_augmenting_on_the_device_filters_the_clean_batches_reproducibly_and_is_recorded(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")

    def first_batches(augment_on_device: bool):
        config = TrainConfig(data_dir=str(data), out_dir=str(tmp_path / "run"), batch_size=2, crop_frames=32,
                             validation_segments=1, device="cpu", augment_on_device=augment_on_device)
        trainer = Trainer(config)
        return trainer._next_batch().audio, trainer._next_batch().audio

    on_device, again = first_batches(True), first_batches(True)
    assert all(torch.equal(a, b) for a, b in zip(on_device, again, strict=True))
    assert all(a.abs().max() <= 1.0 for a in on_device)
    in_workers = first_batches(False)
    assert on_device[0].shape == in_workers[0].shape and not torch.equal(on_device[0], in_workers[0])
    out = tmp_path / "cli"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu",
                 "--augment-on-device"]) == 0
    assert load_checkpoint(out / "best.pt").metadata["train_config"]["augment_on_device"] is True


def test_cpu_bf16_runs_the_network_in_bfloat16_where_the_cpu_has_it_and_the_step_learns_the_same(tmp_path, caplog):
    data = write_tiny_corpus(tmp_path / "data")

    def first_step(cpu_bf16: bool) -> tuple[Trainer, torch.dtype, dict]:
        config = TrainConfig(data_dir=str(data), out_dir=str(tmp_path / "run"), batch_size=2, crop_frames=32,
                             validation_segments=1, device="cpu", seed=7, cpu_bf16=cpu_bf16)
        trainer = Trainer(config)
        seen = []
        trainer.model.cnn.register_forward_hook(lambda module, args, out: seen.append(out.dtype))
        losses = trainer.train_step()
        return trainer, seen[0], losses

    _, float_dtype, float_losses = first_step(False)
    trainer, dtype, losses = first_step(True)
    assert float_dtype == torch.float32
    if cpu_has_native_bf16():
        assert trainer.autocast_dtype == dtype == torch.bfloat16
    else:  # emulated bfloat16 would only be slower: the run stays float32 and says so
        assert trainer.autocast_dtype is None and dtype == torch.float32
        assert "no native bfloat16" in caplog.text
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert losses["total"] == pytest.approx(float_losses["total"], rel=0.05)
    out = tmp_path / "cli"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu",
                 "--cpu-bf16"]) == 0
    assert load_checkpoint(out / "best.pt").metadata["train_config"]["cpu_bf16"] is True


def test_calibrating_other_views_keeps_the_decoders_of_the_views_before_until_the_window_changes(tmp_path):
    data = write_tiny_corpus(tmp_path / "data")
    out = tmp_path / "run"
    assert main(["train", "--data-dir", str(data), "--out", str(out), "--steps", "1", "--batch-size", "1",
                 "--crop-frames", "32", "--validate-every", "1", "--validation-segments", "1", "--device", "cpu"]) == 0
    ckpt = str(out / "best.pt")
    first = load_checkpoint(ckpt, device="cpu").decoder
    calibrate = ["train", "--data-dir", str(data), "--calibrate", ckpt, "--validation-segments", "1"]
    assert main([*calibrate, "--views=-1,1"]) == 0
    two = load_checkpoint(ckpt, device="cpu")
    assert two.views.semitones == (-1, 1) and two.alternatives == {(0,): first}
    assert two.metadata["decoder_calibration"]["views"] == [-1, 1]
    assert main([*calibrate, "--views=0"]) == 0
    back = load_checkpoint(ckpt, device="cpu")
    assert back.views.semitones == (0,) and back.alternatives == {(-1, 1): two.decoder}
    assert main([*calibrate, "--lookahead", "8"]) == 0  # a new window: the other sets' decoders no longer fit
    assert load_checkpoint(ckpt, device="cpu").alternatives == {}


def test_each_step_draws_its_window_from_the_configured_hops_and_look_aheads():
    from notestream.model.training import training_window

    fixed = TrainConfig(train_lookaheads=(4, 8))
    assert {training_window(fixed, step).hop for step in range(50)} == {fixed.window.hop}
    assert {training_window(fixed, step).lookahead for step in range(50)} == {4, 8}
    varied = TrainConfig(train_lookaheads=(1, 2), train_hops=(1, 2, 8))
    windows = {(w.hop, w.lookahead) for w in (training_window(varied, step) for step in range(200))}
    assert windows == {(h, la) for h in (1, 2, 8) for la in (1, 2)}
    assert training_window(varied, 7) == training_window(varied, 7)  # the same step draws the same window
