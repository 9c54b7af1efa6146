"""Pitch-shifted views: warped filterbanks, key-aligned means, the same activations streamed or whole."""

import argparse
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from notestream.cli import main
from notestream.commands.serve import config_from_args, register
from notestream.model.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, with_views
from notestream.model.config import DecoderConfig, ViewConfig, WindowConfig
from notestream.model.decoding import Activations, decode
from notestream.model.features import FeatureConfig, LogMelExtractor, mel_filterbank
from notestream.model.inference import TranscriptionStream
from notestream.model.views import combine_views, view_activations
from tests.model.model_fixtures import small_model
from tests.model.test_inference import assert_close_activations, recorded_activations

VIEWS = (-1, 0, 1)
LOADED = replace(small_model(WindowConfig(4, 6)), views=ViewConfig(VIEWS))


def _acts(onset: np.ndarray) -> Activations:
    return Activations(onset, onset, onset, onset, onset[:, 0].copy())


def test_views_are_averaged_on_the_audios_keys_and_edge_keys_over_the_views_that_have_them():
    base = np.arange(88, dtype=np.float32)[None].repeat(2, axis=0)
    up = np.roll(base, -1, axis=1) * 0  # a view one semitone up: its key k + 1 is the audio's key k
    up[:, 1:] = base[:, :-1] * 0 + 1
    combined = combine_views([_acts(base), _acts(up)], (0, 1))
    np.testing.assert_allclose(combined.onset[0, :87], (base[0, :87] + 1) / 2)
    assert combined.onset[0, 87] == base[0, 87]  # the top key has no counterpart one semitone up
    assert combined.pedal.shape == (2,)
    alone = _acts(base)
    assert combine_views([alone], (0,)) is alone
    raised = combine_views([_acts(base)], (2,))  # no view hears the top two keys
    assert np.isfinite(raised.onset).all() and (raised.onset[:, 86:] == 0).all()


def test_a_raised_view_reads_the_spectrum_where_the_raised_audio_would_have_it():
    config = FeatureConfig()
    bin_hz = config.sample_rate / config.n_fft
    plain, up = mel_filterbank(config), mel_filterbank(config, 1)
    bands = range(60, 200)  # above 500 Hz, where a band spans several bins
    plain_peak = np.array([plain[m].argmax() for m in bands]) * bin_hz
    up_peak = np.array([up[m].argmax() for m in bands]) * bin_hz
    np.testing.assert_allclose(up_peak * 2 ** (1 / 12), plain_peak, atol=2 * bin_hz)
    np.testing.assert_array_equal(mel_filterbank(config, 0), plain)


def test_streamed_views_equal_the_mean_of_whole_passes_over_each_views_features(piano_audio):
    stream = TranscriptionStream(LOADED)
    seen = recorded_activations(stream)
    for chunk in np.array_split(piano_audio, 11):
        stream.push(chunk)
    stream.finish()
    whole = []
    for s in VIEWS:
        mel = LogMelExtractor(LOADED.features, s)(torch.from_numpy(piano_audio))
        with torch.no_grad():
            out = {k: torch.sigmoid(v[0]).numpy() for k, v in LOADED.model(mel[None], LOADED.window).items()}
        whole.append(Activations(out["onset"], out["frame"], out["offset"], out["velocity"], out["pedal"]))
    expected = combine_views(whole, VIEWS)
    assert_close_activations(Activations.concat(seen), expected)
    assert_close_activations(view_activations(LOADED, piano_audio), expected)
    notes, _ = decode(Activations.concat(seen), LOADED.decoder, LOADED.features.frame_rate)
    assert stream.result().notes == notes


def test_views_travel_in_the_checkpoint_and_older_checkpoints_hear_the_audio_alone(tmp_path):
    save_checkpoint(tmp_path / "v.pt", LOADED)
    assert load_checkpoint(tmp_path / "v.pt", device="cpu").views.semitones == VIEWS
    payload = torch.load(tmp_path / "v.pt", weights_only=True)
    del payload["views"]
    torch.save(payload, tmp_path / "old.pt")
    assert load_checkpoint(tmp_path / "old.pt", device="cpu").views.semitones == (0,)


@pytest.mark.parametrize("semitones", [(), (0, 0), (0, 13)])
def test_view_sets_must_be_distinct_small_shifts(semitones):
    with pytest.raises(ValueError, match="distinct shifts"):
        ViewConfig(semitones)


def test_a_checkpoint_switches_to_another_calibrated_view_set_with_its_decoder(tmp_path):
    accurate = DecoderConfig(0.45, 0.6)
    loaded = replace(LOADED, alternatives={(-2, -1, 0, 1, 2): accurate, (0,): DecoderConfig(0.5, 0.5)})
    save_checkpoint(tmp_path / "v.pt", loaded)
    back = load_checkpoint(tmp_path / "v.pt", device="cpu")
    assert back.alternatives == loaded.alternatives
    five = with_views(back, (-2, -1, 0, 1, 2))
    assert five.views.semitones == (-2, -1, 0, 1, 2) and five.decoder == accurate
    assert five.alternatives[VIEWS] == back.decoder and (-2, -1, 0, 1, 2) not in five.alternatives
    assert with_views(back, VIEWS) is back
    with pytest.raises(CheckpointError, match=r"calibrated for views \(1,\).*it has: -1,\+0,\+1"):
        with_views(back, (1,))


def test_transcribe_and_serve_take_another_view_set(tmp_path, piano_wav):
    save_checkpoint(tmp_path / "v.pt", replace(LOADED, alternatives={(0,): DecoderConfig(0.4, 0.4)}))
    out = tmp_path / "out"
    assert main(["transcribe", str(piano_wav), "-o", str(out), "--checkpoint", str(tmp_path / "v.pt"),
                 "--views=0", "--formats", "json", "--no-progress", "--device", "cpu"]) == 0
    written = json.loads(next(out.glob("*.json")).read_text())
    assert '"pitch_views": [0]' in json.dumps(written)
    assert main(["transcribe", str(piano_wav), "-o", str(out), "--checkpoint", str(tmp_path / "v.pt"),
                 "--views=1,2", "--force", "--formats", "json", "--no-progress"]) == 2
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve", "--views=0", "--data-dir", str(tmp_path / "d")])
    assert config_from_args(args).views == (0,)


def test_live_streams_share_one_filterbank_instead_of_building_megabytes_each():
    first, second = TranscriptionStream(LOADED, LOADED.window), TranscriptionStream(LOADED, LOADED.window)
    assert first._views.mel.extractor is second._views.mel.extractor
    assert first._views.mel.extractor.filters.shape[0] == len(VIEWS) * LOADED.features.n_mels
